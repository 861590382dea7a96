//go:build !js

// Package classstore keeps a class's picks (issue #13, class mode): the classes a teacher opened
// and every pick their students sent, in one SQLite file (DIR/pretune-class.db) through the
// pure-Go driver modernc.org/sqlite, so the teacher installs nothing besides pretune.
//
// It is the one core package with a dependency, built natively only: the trainer and the UI
// never link it.
package classstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// FileName is the database's name inside the class folder.
const FileName = "pretune-class.db"

// MaxClasses is how many classes one folder holds: enough for a school's year, few enough that
// a server open to a network cannot be filled by a script.
const MaxClasses = 1000

// CodeAlphabet are the characters of a class code: no 0/O or 1/I, which read alike on a board.
const CodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// CodeLen is the length of a class code.
const CodeLen = 6

// Errors the handlers map to statuses.
var (
	ErrNotFound    = errors.New("no such class")
	ErrFull        = fmt.Errorf("this server already holds %d classes, the most one folder keeps", MaxClasses)
	ErrNewerSchema = errors.New("the class database was written by a newer pretune")
)

// Store is an open class database. Its methods are safe for concurrent use.
type Store struct {
	path string
	// w is the one writing connection: writers queue in Go rather than spinning on SQLite's
	// busy handler, and every transaction starts IMMEDIATE (it takes the write lock first, so
	// it never fails upgrading a read lock). r serves the reads, which WAL lets run beside it.
	w, r *sql.DB
}

// Class is one class: what its students' pages need, and the hash of the teacher's secret.
type Class struct {
	Code         string
	Name         string
	Lang         string
	Spec         string // the runspec share code of the class's feedback stage
	Seed         uint64 // below 2^53: the offers' seed, exact in JSON
	SecretSHA256 []byte // sha256 of the teacher's secret; the secret itself is never stored
	Created      time.Time
}

// Pick is one student's judgement: of two answers to prompt, chosen is the better one. ID is
// the student's own id for it, which makes sending it again harmless.
type Pick struct {
	ID       string `json:"id"`
	Prompt   string `json:"prompt"`
	Chosen   string `json:"chosen"`
	Rejected string `json:"rejected"`
}

// Added is what a batch of picks did: picks stored now, and picks whose id was stored before.
type Added struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// migrations are the schema's versions in order: migrations[i] takes version i to i+1. Never
// edit one that has shipped; append.
var migrations = []string{
	// 1: classes and picks. The CHECKs repeat the cheapest of the handler's checks, so that a
	// bug upstream cannot store a pick no reward model can learn from.
	`CREATE TABLE classes(
		code TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		lang TEXT NOT NULL,
		spec TEXT NOT NULL,
		seed INTEGER NOT NULL,
		secret_sha256 BLOB NOT NULL,
		created INTEGER NOT NULL
	);
	CREATE TABLE picks(
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		class TEXT NOT NULL REFERENCES classes(code),
		pick_id TEXT NOT NULL,
		student TEXT NOT NULL,
		prompt TEXT NOT NULL,
		chosen TEXT NOT NULL,
		rejected TEXT NOT NULL,
		created INTEGER NOT NULL,
		UNIQUE(class, pick_id),
		CHECK(pick_id <> '' AND student <> '' AND prompt <> '' AND chosen <> '' AND rejected <> '' AND chosen <> rejected)
	);
	CREATE INDEX picks_student ON picks(class, student);`,
}

// SchemaVersion is the schema this program writes.
func SchemaVersion() int { return len(migrations) }

// Open opens (creating if need be) dir/pretune-class.db and brings its schema up to date. A
// database from a newer pretune is refused (ErrNewerSchema) rather than written by a program
// that does not know its tables.
func Open(dir string) (*Store, error) {
	if strings.ContainsRune(dir, '?') {
		return nil, fmt.Errorf("class folder %q: a '?' in the path is not supported (SQLite reads it as the start of options)", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("class folder: %w", err)
	}
	path := filepath.Join(dir, FileName)
	// synchronous(FULL): a pick the server answered 200 for is on disk, even after a power cut,
	// not only after the process dies. busy_timeout: another process (sqlite3's .backup) may
	// hold the lock for a moment.
	opts := "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)"
	w, err := sql.Open("sqlite", path+opts+"&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	s := &Store{path: path, w: w}
	if err := s.migrate(); err != nil {
		w.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r, err := sql.Open("sqlite", path+opts+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(4)
	s.r = r
	return s, nil
}

// Path is the database file's path.
func (s *Store) Path() string { return s.path }

// Close closes the database. SQLite checkpoints the WAL into the main file when its last
// connection closes, so a closed folder is one file a teacher can copy.
func (s *Store) Close() error {
	var err error
	if s.r != nil {
		err = s.r.Close()
	}
	return errors.Join(err, s.w.Close())
}

// migrate applies the migrations the file lacks, each in its own transaction together with
// its version number, so a crash between two leaves a database at one version or the next.
func (s *Store) migrate() error {
	ctx := context.Background()
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("opening the class database: %w", err)
	}
	for target := 1; ; target++ {
		done, err := s.migrateTo(ctx, target)
		if err != nil || done {
			return err
		}
	}
}

// migrateTo brings the schema to version target if it is below it; done says there is nothing
// more to apply.
func (s *Store) migrateTo(ctx context.Context, target int) (done bool, err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var v int
	switch err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v); {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version(version) VALUES(0)`); err != nil {
			return false, err
		}
	case err != nil:
		return false, err
	}
	if v > len(migrations) {
		return false, fmt.Errorf("%w: its schema is version %d and this pretune knows versions up to %d; run a newer pretune on this folder (or give -class a new folder)",
			ErrNewerSchema, v, len(migrations))
	}
	if v >= target {
		return target >= len(migrations), tx.Commit()
	}
	if _, err := tx.ExecContext(ctx, migrations[target-1]); err != nil {
		return false, fmt.Errorf("schema version %d: %w", target, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, target); err != nil {
		return false, err
	}
	return target >= len(migrations), tx.Commit()
}

// NewCode draws a random class code.
func NewCode() string {
	var b [CodeLen]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	for i := range b {
		b[i] = CodeAlphabet[int(b[i])%len(CodeAlphabet)] // 256 is a multiple of 32: uniform
	}
	return string(b[:])
}

// ValidCode reports whether code has a class code's shape.
func ValidCode(code string) bool {
	if len(code) != CodeLen {
		return false
	}
	for i := 0; i < len(code); i++ {
		if strings.IndexByte(CodeAlphabet, code[i]) < 0 {
			return false
		}
	}
	return true
}

// CreateClass stores a new class under a fresh code (c.Code and c.Created are filled in) and
// returns it; ErrFull when the folder holds MaxClasses already.
func (s *Store) CreateClass(ctx context.Context, c Class) (Class, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return c, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM classes`).Scan(&n); err != nil {
		return c, err
	}
	if n >= MaxClasses {
		return c, ErrFull
	}
	c.Created = time.Now().Truncate(time.Second)
	// 32^6 is about a billion codes against at most a thousand classes: a second draw is rare,
	// a tenth never happens.
	for try := 0; ; try++ {
		c.Code = NewCode()
		var taken int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM classes WHERE code = ?`, c.Code).Scan(&taken); err != nil {
			return c, err
		}
		if taken == 0 {
			break
		}
		if try == 10 {
			return c, errors.New("could not draw an unused class code")
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO classes(code, name, lang, spec, seed, secret_sha256, created) VALUES(?, ?, ?, ?, ?, ?, ?)`,
		c.Code, c.Name, c.Lang, c.Spec, int64(c.Seed), c.SecretSHA256, c.Created.Unix())
	if err != nil {
		return c, err
	}
	return c, tx.Commit()
}

// Class returns the class of a code, or ErrNotFound.
func (s *Store) Class(ctx context.Context, code string) (Class, error) {
	c := Class{Code: code}
	var seed, created int64
	err := s.r.QueryRowContext(ctx, `SELECT name, lang, spec, seed, secret_sha256, created FROM classes WHERE code = ?`, code).
		Scan(&c.Name, &c.Lang, &c.Spec, &seed, &c.SecretSHA256, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	c.Seed, c.Created = uint64(seed), time.Unix(created, 0)
	return c, err
}

// AddPicks stores a student's batch in one transaction: a pick whose id the class already has
// is counted as a duplicate and left as it was; any error stores nothing of the batch. The
// picks must have passed Validate.
func (s *Store) AddPicks(ctx context.Context, code, student string, picks []Pick) (Added, error) {
	var a Added
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return a, err
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `INSERT INTO picks(class, pick_id, student, prompt, chosen, rejected, created)
		VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(class, pick_id) DO NOTHING`)
	if err != nil {
		return a, err
	}
	defer st.Close()
	now := time.Now().Unix()
	for i, p := range picks {
		res, err := st.ExecContext(ctx, code, p.ID, student, p.Prompt, p.Chosen, p.Rejected, now)
		if err != nil {
			return Added{}, fmt.Errorf("pick %d: %w", i, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			a.Accepted++
		} else {
			a.Duplicates++
		}
	}
	if err := tx.Commit(); err != nil {
		return Added{}, err
	}
	return a, nil
}

// StudentPicks is how many picks a student has stored in a class.
func (s *Store) StudentPicks(ctx context.Context, code, student string) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM picks WHERE class = ? AND student = ?`, code, student).Scan(&n)
	return n, err
}

// Stats is a class's progress, for the teacher.
type Stats struct {
	Picks     int            `json:"picks"`
	Students  []StudentStats `json:"students"`
	Agreement Agreement      `json:"agreement"`
}

// StudentStats is one student's progress; Student is the first 8 hex digits of the sha256 of
// the student's id, so the teacher's page never holds an id it could send picks with.
type StudentStats struct {
	Student string `json:"student"`
	Picks   int    `json:"picks"`
	Last    int64  `json:"last"` // unix seconds of the latest pick
}

// Agreement measures how alike the students judge: over the Pairs distinct pairs (a prompt and
// two answers, in either order) judged by two or more students, Judgements pairs of students
// judged the same pair, and Agree is the share of those who chose the same answer (0 when
// there are none). A student who judged a pair more than once counts with the latest pick.
type Agreement struct {
	Pairs      int     `json:"pairs"`
	Judgements int     `json:"judgements"`
	Agree      float64 `json:"agree"`
}

// StudentHash is the id the teacher's page shows for a student.
func StudentHash(student string) string {
	sum := sha256.Sum256([]byte(student))
	return hex.EncodeToString(sum[:4])
}

// Stats returns a class's progress. It reads every pick of the class once (a class makes a
// few thousand), in one read transaction so the counts agree with each other.
func (s *Store) Stats(ctx context.Context, code string) (Stats, error) {
	st := Stats{Students: []StudentStats{}}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return st, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT student, count(*), max(created) FROM picks WHERE class = ? GROUP BY student`, code)
	if err != nil {
		return st, err
	}
	for rows.Next() {
		var ss StudentStats
		var id string
		if err := rows.Scan(&id, &ss.Picks, &ss.Last); err != nil {
			rows.Close()
			return st, err
		}
		ss.Student = StudentHash(id)
		st.Picks += ss.Picks
		st.Students = append(st.Students, ss)
	}
	if err := rows.Err(); err != nil {
		return st, err
	}
	sort.Slice(st.Students, func(i, j int) bool {
		a, b := st.Students[i], st.Students[j]
		if a.Picks != b.Picks {
			return a.Picks > b.Picks
		}
		return a.Student < b.Student
	})
	st.Agreement, err = agreement(ctx, tx, code)
	return st, err
}

// agreement computes Agreement from the picks in arrival order.
func agreement(ctx context.Context, tx *sql.Tx, code string) (Agreement, error) {
	var ag Agreement
	rows, err := tx.QueryContext(ctx, `SELECT student, prompt, chosen, rejected FROM picks WHERE class = ? ORDER BY seq`, code)
	if err != nil {
		return ag, err
	}
	defer rows.Close()
	// A pair's key puts its two answers in a fixed order; the value holds, per student, whether
	// the student chose the first of them (later picks overwrite earlier ones).
	pairs := map[string]map[string]bool{}
	for rows.Next() {
		var student, prompt, chosen, rejected string
		if err := rows.Scan(&student, &prompt, &chosen, &rejected); err != nil {
			return ag, err
		}
		a, b := chosen, rejected
		if b < a {
			a, b = b, a
		}
		key := prompt + "\x00" + a + "\x00" + b // no text holds a NUL (Validate)
		m := pairs[key]
		if m == nil {
			m = map[string]bool{}
			pairs[key] = m
		}
		m[student] = chosen == a
	}
	if err := rows.Err(); err != nil {
		return ag, err
	}
	agree := 0
	for _, m := range pairs {
		n := len(m)
		if n < 2 {
			continue
		}
		first := 0
		for _, f := range m {
			if f {
				first++
			}
		}
		ag.Pairs++
		ag.Judgements += n * (n - 1) / 2
		agree += first*(first-1)/2 + (n-first)*(n-first-1)/2
	}
	if ag.Judgements > 0 {
		ag.Agree = float64(agree) / float64(ag.Judgements)
	}
	return ag, nil
}

// EachPick calls fn with every pick of a class in arrival order (the ID is the student's pick
// id), stopping at fn's first error.
func (s *Store) EachPick(ctx context.Context, code string, fn func(Pick) error) error {
	rows, err := s.r.QueryContext(ctx, `SELECT pick_id, prompt, chosen, rejected FROM picks WHERE class = ? ORDER BY seq`, code)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var p Pick
		if err := rows.Scan(&p.ID, &p.Prompt, &p.Chosen, &p.Rejected); err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return rows.Err()
}

// IntegrityCheck runs SQLite's integrity_check and returns nil when it says "ok".
func (s *Store) IntegrityCheck(ctx context.Context) error {
	var res string
	if err := s.r.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil {
		return err
	}
	if res != "ok" {
		return fmt.Errorf("integrity_check: %s", res)
	}
	return nil
}

// Counts is how many classes and picks the database holds.
func (s *Store) Counts(ctx context.Context) (classes, picks int, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM classes), (SELECT count(*) FROM picks)`).Scan(&classes, &picks)
	return classes, picks, err
}
