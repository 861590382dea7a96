//go:build !js

package classstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func openTest(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newClass(t *testing.T, s *Store) Class {
	t.Helper()
	c, err := s.CreateClass(context.Background(), Class{Name: "7b biology", Lang: "en", Spec: "spec", Seed: 42, SecretSHA256: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func picks(prefix string, n int) []Pick {
	var ps []Pick
	for i := range n {
		ps = append(ps, Pick{ID: fmt.Sprintf("%s-%d", prefix, i), Prompt: "p", Chosen: fmt.Sprintf("a%d", i), Rejected: "b"})
	}
	return ps
}

func countPicks(t *testing.T, s *Store, code string) int {
	t.Helper()
	n := 0
	if err := s.EachPick(context.Background(), code, func(Pick) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOpenMigratesFromEmptyAndReopens(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var v int
	if err := s.w.QueryRow(`SELECT version FROM schema_version`).Scan(&v); err != nil || v != SchemaVersion() {
		t.Fatalf("schema version %d (%v), want %d", v, err, SchemaVersion())
	}
	var mode string
	if err := s.w.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal mode %q (%v), want wal", mode, err)
	}
	c := newClass(t, s)
	if _, err := s.AddPicks(context.Background(), c.Code, "student-1", picks("x", 3)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	got, err := s.Class(context.Background(), c.Code)
	if err != nil || got.Name != c.Name || got.Seed != 42 || got.Lang != "en" {
		t.Fatalf("reopened class %+v (%v), want %+v", got, err, c)
	}
	if n := countPicks(t, s, c.Code); n != 3 {
		t.Fatalf("%d picks after reopening, want 3", n)
	}
	var rows int
	if err := s.w.QueryRow(`SELECT count(*) FROM schema_version`).Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("schema_version has %d rows (%v), want 1", rows, err)
	}
	if err := s.IntegrityCheck(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(`UPDATE schema_version SET version = ?`, SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(dir)
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "newer pretune") || !strings.Contains(err.Error(), filepath.Join(dir, FileName)) {
		t.Fatalf("Open of a newer schema: %v, want ErrNewerSchema naming the file", err)
	}
}

func TestAddPicksIsIdempotent(t *testing.T) {
	s := openTest(t, t.TempDir())
	c := newClass(t, s)
	ctx := context.Background()
	a, err := s.AddPicks(ctx, c.Code, "student-1", picks("x", 5))
	if err != nil || a != (Added{Accepted: 5}) {
		t.Fatalf("first batch: %+v, %v", a, err)
	}
	// Sent again with two new ones: only those are stored.
	a, err = s.AddPicks(ctx, c.Code, "student-1", picks("x", 7))
	if err != nil || a != (Added{Accepted: 2, Duplicates: 5}) {
		t.Fatalf("re-sent batch: %+v, %v; want 2 accepted, 5 duplicates", a, err)
	}
	if n := countPicks(t, s, c.Code); n != 7 {
		t.Fatalf("%d picks stored, want 7", n)
	}
	if n, err := s.StudentPicks(ctx, c.Code, "student-1"); err != nil || n != 7 {
		t.Fatalf("student's count %d (%v), want 7", n, err)
	}
	// The same pick id in another class is another pick.
	c2 := newClass(t, s)
	if a, err := s.AddPicks(ctx, c2.Code, "student-1", picks("x", 1)); err != nil || a.Accepted != 1 {
		t.Fatalf("same id in another class: %+v, %v", a, err)
	}
}

func TestAddPicksFailingBatchWritesNothing(t *testing.T) {
	s := openTest(t, t.TempDir())
	c := newClass(t, s)
	ctx := context.Background()
	bad := picks("x", 6)
	bad[4].Rejected = bad[4].Chosen // the schema's CHECK refuses it, after four inserts
	if _, err := s.AddPicks(ctx, c.Code, "student-1", bad); err == nil || !strings.Contains(err.Error(), "pick 4") {
		t.Fatalf("a batch with a bad pick: %v, want an error naming pick 4", err)
	}
	if n := countPicks(t, s, c.Code); n != 0 {
		t.Fatalf("%d picks stored from a failed batch, want 0", n)
	}
	if _, err := s.AddPicks(ctx, "ZZZZZZ", "student-1", picks("y", 2)); err == nil {
		t.Fatal("picks for a class that does not exist were stored")
	}
	// The store still works after the rollback.
	if a, err := s.AddPicks(ctx, c.Code, "student-1", picks("x", 6)); err != nil || a.Accepted != 6 {
		t.Fatalf("after a failed batch: %+v, %v", a, err)
	}
}

func TestCreateClassLimitAndCodes(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	c := newClass(t, s)
	if !ValidCode(c.Code) {
		t.Fatalf("code %q is not a valid code", c.Code)
	}
	if _, err := s.Class(ctx, "ZZZZZZ"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown class: %v, want ErrNotFound", err)
	}
	// Fill the folder up to the limit directly, then one more is refused.
	tx, _ := s.w.Begin()
	for i := 1; i < MaxClasses; i++ {
		if _, err := tx.Exec(`INSERT INTO classes VALUES(?, 'n', 'en', 's', 1, x'00', 0)`, fmt.Sprintf("C%05d", i)); err != nil {
			t.Fatal(err)
		}
	}
	tx.Commit()
	if _, err := s.CreateClass(ctx, Class{Name: "one too many", Lang: "en", Spec: "s", SecretSHA256: []byte{0}}); !errors.Is(err, ErrFull) {
		t.Fatalf("class %d: %v, want ErrFull", MaxClasses+1, err)
	}
	for _, bad := range []string{"", "ABCDE", "ABCDEFG", "ABCDE0", "ABCDEO", "ABCDE1", "ABCDEI", "abcdef", "ABCDÉ"} {
		if ValidCode(bad) {
			t.Errorf("ValidCode(%q) = true", bad)
		}
	}
}

func TestStatsAndAgreement(t *testing.T) {
	s := openTest(t, t.TempDir())
	c := newClass(t, s)
	ctx := context.Background()
	add := func(student, id, prompt, chosen, rejected string) {
		t.Helper()
		if _, err := s.AddPicks(ctx, c.Code, student, []Pick{{ID: id, Prompt: prompt, Chosen: chosen, Rejected: rejected}}); err != nil {
			t.Fatal(err)
		}
	}
	// Pair (p, x, y): three students, two choose x: student-pairs 3, agreeing 1 (s1,s2).
	add("s1-aaaaa", "1", "p", "x", "y")
	add("s2-aaaaa", "2", "p", "x", "y")
	add("s3-aaaaa", "3", "p", "y", "x") // the same pair in the other order
	// Pair (q, u, v): two students, both choose u, s1 after first choosing v (the latest counts).
	add("s1-aaaaa", "4", "q", "v", "u")
	add("s1-aaaaa", "5", "q", "u", "v")
	add("s2-aaaaa", "6", "q", "u", "v")
	// Judged by one student only: not a pair for agreement.
	add("s3-aaaaa", "7", "r", "m", "n")
	st, err := s.Stats(ctx, c.Code)
	if err != nil {
		t.Fatal(err)
	}
	want := Agreement{Pairs: 2, Judgements: 4, Agree: 2.0 / 4}
	if st.Agreement != want {
		t.Fatalf("agreement %+v, want %+v", st.Agreement, want)
	}
	if st.Picks != 7 || len(st.Students) != 3 || st.Students[0].Student != StudentHash("s1-aaaaa") || st.Students[0].Picks != 3 {
		t.Fatalf("stats %+v: want 7 picks, s1 first with 3", st)
	}
	if len(st.Students[0].Student) != 8 || st.Students[0].Last == 0 {
		t.Fatalf("student entry %+v: want an 8-hex id and a time", st.Students[0])
	}
	var order []string
	s.EachPick(ctx, c.Code, func(p Pick) error { order = append(order, p.ID); return nil })
	if strings.Join(order, ",") != "1,2,3,4,5,6,7" {
		t.Fatalf("picks in order %v, want arrival order", order)
	}
}
