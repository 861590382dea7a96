//go:build !js

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"pretune/core/classstore"
)

// classServerEnv names the folder a re-executed test binary serves the class API on.
const classServerEnv = "PRETUNE_CLASS_SERVER_DIR"

// TestClassServerProcess is not a test: TestClassKillRestart runs the test binary again with
// it to get a class server in a process of its own, one it can SIGKILL.
func TestClassServerProcess(t *testing.T) {
	dir := os.Getenv(classServerEnv)
	if dir == "" {
		t.Skip("the class server that TestClassKillRestart runs as its own process")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err == nil {
		err = runServer(ln, "", "", dir, os.Stderr) // says "serving ... on http://ADDR" first
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "class server:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// classProcess is a class server in its own process.
type classProcess struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
	done chan error
}

func startClassProcess(t *testing.T, dir string) *classProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestClassServerProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), classServerEnv+"="+dir)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &classProcess{cmd: cmd, logs: &bytes.Buffer{}, done: make(chan error, 1)}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.logs.WriteString(line + "\n")
			if _, u, ok := strings.Cut(line, "serving the playground on "); ok {
				urlc <- u
			}
		}
		p.done <- cmd.Wait()
	}()
	select {
	case p.url = <-urlc:
	case err := <-p.done:
		t.Fatalf("the class server exited: %v\n%s", err, p.logs)
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the class server did not start in 10 s:\n%s", p.logs)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return p
}

// TestClassKillRestart kills the server (SIGKILL, no chance to close anything) while students
// send picks, restarts it on the same folder, and lets the students re-send what was not
// acknowledged: every pick acknowledged before the kill survives it, the database opens and
// passes integrity_check, and after the re-sends every pick is stored exactly once.
func TestClassKillRestart(t *testing.T) {
	const students, each, killAfter = 20, 40, 300
	dir := t.TempDir()
	srv := startClassProcess(t, dir)
	code := openClassAt(t, srv.url)
	prompts := classPrompts(t)

	var (
		mu     sync.Mutex
		url    = srv.url // the live server's; "" while it is down
		acked  = map[string]bool{}
		errs   []error
		killed = make(chan struct{})
	)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: students}}
	defer client.CloseIdleConnections()
	var wg sync.WaitGroup
	for s := range students {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(s), 7))
			student := fmt.Sprintf("student-%03d", s)
			all := testPicks(prompts, student, 0, each)
			for i := 0; i < len(all); {
				n := min(5+rng.IntN(6), len(all)-i)
				batch := classstore.PicksRequest{Student: student, Picks: all[i : i+n]}
				for { // the browser's queue: a batch leaves it only after a 200
					if ctx.Err() != nil {
						mu.Lock()
						errs = append(errs, fmt.Errorf("%s: out of time at pick %d", student, i))
						mu.Unlock()
						return
					}
					mu.Lock()
					u := url
					mu.Unlock()
					if u == "" {
						time.Sleep(10 * time.Millisecond)
						continue
					}
					_, err := postPicks(ctx, client, u+"/api/class/"+code+"/picks", batch)
					if err == nil {
						break
					}
					if strings.HasPrefix(err.Error(), "status") { // the server refused it: a bug
						mu.Lock()
						errs = append(errs, fmt.Errorf("%s: %w", student, err))
						mu.Unlock()
						return
					}
					time.Sleep(10 * time.Millisecond) // the network failed: send again
				}
				mu.Lock()
				for _, p := range batch.Picks {
					acked[p.ID] = true
				}
				if len(acked) >= killAfter && url != "" && !isClosed(killed) {
					close(killed)
				}
				mu.Unlock()
				i += n
			}
		})
	}

	// Kill the server mid-load, then look at the folder before anyone writes to it again.
	select {
	case <-killed:
	case <-ctx.Done():
		t.Fatal("the students never got to the kill")
	}
	srv.cmd.Process.Signal(syscall.SIGKILL)
	<-srv.done
	mu.Lock()
	url = ""
	before := make(map[string]bool, len(acked))
	for id := range acked {
		before[id] = true
	}
	mu.Unlock()
	if len(before) >= students*each {
		t.Fatalf("every pick was acknowledged before the kill: it was not mid-load")
	}
	store, err := classstore.Open(dir)
	if err != nil {
		t.Fatalf("the folder after a SIGKILL: %v", err)
	}
	if err := store.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	store.EachPick(ctx, code, func(p classstore.Pick) error { stored[p.ID]++; return nil })
	store.Close()
	for id := range before {
		if stored[id] != 1 {
			t.Fatalf("pick %s was acknowledged before the kill and is stored %d times after it", id, stored[id])
		}
	}
	t.Logf("killed after %d of %d picks acknowledged; %d stored (%d committed without their answer)",
		len(before), students*each, len(stored), len(stored)-len(before))

	srv = startClassProcess(t, dir)
	mu.Lock()
	url = srv.url
	mu.Unlock()
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}

	// A graceful stop closes the database: SQLite folds the WAL into the file and removes it.
	srv.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-srv.done; err != nil {
		t.Fatalf("the server's exit after SIGTERM: %v\n%s", err, srv.logs)
	}
	if _, err := os.Stat(filepath.Join(dir, classstore.FileName+"-wal")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the WAL is still there after a graceful stop (%v): the database was not closed", err)
	}
	store, err = classstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	clear(stored)
	store.EachPick(ctx, code, func(p classstore.Pick) error { stored[p.ID]++; return nil })
	for s := range students {
		for _, p := range testPicks(prompts, fmt.Sprintf("student-%03d", s), 0, each) {
			if stored[p.ID] != 1 {
				t.Fatalf("pick %s is stored %d times, want once", p.ID, stored[p.ID])
			}
		}
	}
	if len(stored) != students*each {
		t.Fatalf("%d picks stored, want %d", len(stored), students*each)
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// openClassAt opens an English class on the server at url and returns its code.
func openClassAt(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Post(url+"/api/class", "application/json", strings.NewReader(`{"name":"fault test","lang":"en"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("opening a class: %d %s", resp.StatusCode, body)
	}
	var c classInfo
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatal(err)
	}
	return c.Code
}
