//go:build !js

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pretune/core/classstore"
)

// Load test figures: a class of classStudents students, each making classPicksEach picks and
// sending them in bursts of 5 to 10, as browsers do when their queue fills while offline.
const (
	classStudents  = 60
	classPicksEach = 40
	// classHeapBound is the most the live heap and the goroutines' stacks may grow by over the
	// whole load after a warm-up: the server keeps nothing per pick or per request in
	// memory (the classes it read, a rate bucket per student), so a leak of even a goroutine or
	// a few KiB per request goes over it. SQLite's page cache lives outside Go's heap (modernc's
	// allocator), bounded by SQLite's own cache_size.
	classHeapBound = 2 << 20
)

// postPicks sends one batch and returns the reply's counts; err for anything but a 200.
func postPicks(ctx context.Context, client *http.Client, url string, req classstore.PicksRequest) (classstore.Added, error) {
	var a classstore.Added
	body, _ := json.Marshal(req)
	hr, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return a, err
	}
	hr.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(hr)
	if err != nil {
		return a, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e map[string]any
		json.NewDecoder(resp.Body).Decode(&e)
		return a, fmt.Errorf("status %d: %v", resp.StatusCode, e["error"])
	}
	return a, json.NewDecoder(resp.Body).Decode(&a)
}

// heapAlloc is the live heap and the goroutines' stacks after a collection.
func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC() // the second collects what the first's finalizers released
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc + m.StackInuse
}

func TestClassLoad(t *testing.T) {
	cs := newClassServer(t)
	code, _ := cs.openClass("en")
	prompts := classPrompts(t)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: classStudents}}
	defer client.CloseIdleConnections()
	url := cs.srv.URL + "/api/class/" + code + "/picks"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// A warm-up in another class fills what every server fills once (the tokenizer, the
	// connections' pools, encoding/json's caches), so the bound below is on what the load adds.
	warm, _ := cs.openClass("en")
	var wwg sync.WaitGroup
	for s := range classStudents {
		wwg.Go(func() {
			student := fmt.Sprintf("warm-%03d", s)
			req := classstore.PicksRequest{Student: student + "-student", Picks: testPicks(prompts, student, 0, 5)}
			if _, err := postPicks(ctx, client, cs.srv.URL+"/api/class/"+warm+"/picks", req); err != nil {
				t.Error(err)
			}
		})
	}
	wwg.Wait()
	client.CloseIdleConnections()
	cs.srv.CloseClientConnections()
	time.Sleep(50 * time.Millisecond)
	heapBefore, goroutinesBefore := heapAlloc(), runtime.NumGoroutine()
	start := time.Now()
	var accepted, duplicates, resent, requests atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, classStudents)
	for s := range classStudents {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(s), 13))
			student := fmt.Sprintf("student-%03d", s)
			all := testPicks(prompts, student, 0, classPicksEach)
			for i := 0; i < len(all); {
				n := min(5+rng.IntN(6), len(all)-i)
				batch := classstore.PicksRequest{Student: student, Picks: all[i : i+n]}
				sends := 1
				if rng.IntN(5) == 0 { // the answer was lost: the browser sends the batch again
					sends = 2
					resent.Add(int64(n))
				}
				for range sends {
					a, err := postPicks(ctx, client, url, batch)
					if err != nil {
						errs <- fmt.Errorf("%s: %w", student, err)
						return
					}
					requests.Add(1)
					accepted.Add(int64(a.Accepted))
					duplicates.Add(int64(a.Duplicates))
				}
				i += n
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	total := classStudents * classPicksEach
	if accepted.Load() != int64(total) || duplicates.Load() != resent.Load() {
		t.Fatalf("accepted %d, duplicates %d; want %d and %d", accepted.Load(), duplicates.Load(), total, resent.Load())
	}
	seen := map[string]int{}
	err := cs.store.EachPick(context.Background(), code, func(p classstore.Pick) error { seen[p.ID]++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	for s := range classStudents {
		for _, p := range testPicks(prompts, fmt.Sprintf("student-%03d", s), 0, classPicksEach) {
			if seen[p.ID] != 1 {
				t.Fatalf("pick %s is stored %d times, want once", p.ID, seen[p.ID])
			}
		}
	}
	if len(seen) != total {
		t.Fatalf("%d picks stored, want %d", len(seen), total)
	}
	// The connections' goroutines and buffers are not the server's to keep: close them first.
	client.CloseIdleConnections()
	cs.srv.CloseClientConnections()
	time.Sleep(50 * time.Millisecond) // the server's connection goroutines see the close and exit
	heapAfter := heapAlloc()
	g := runtime.NumGoroutine()
	for wait := time.Now().Add(2 * time.Second); g > goroutinesBefore+5 && time.Now().Before(wait); g = runtime.NumGoroutine() {
		time.Sleep(20 * time.Millisecond) // closed connections' goroutines may still be on their way out
	}
	if g > goroutinesBefore+5 {
		t.Fatalf("%d goroutines after the load, %d before: the server leaks them", g, goroutinesBefore)
	}
	growth := int64(heapAfter) - int64(heapBefore)
	t.Logf("%d students x %d picks in %d requests (%d picks re-sent) in %v: %.0f picks/s; heap and stacks %.1f MiB before, %.1f MiB after",
		classStudents, classPicksEach, requests.Load(), resent.Load(), elapsed.Round(time.Millisecond),
		float64(total)/elapsed.Seconds(), float64(heapBefore)/(1<<20), float64(heapAfter)/(1<<20))
	if growth > classHeapBound {
		t.Fatalf("the heap and stacks grew by %.1f MiB over the load; the bound is %d MiB", float64(growth)/(1<<20), classHeapBound>>20)
	}
}

// BenchmarkClassPicks measures a batch of 8 picks' round trip through the server (HTTP on
// 127.0.0.1, decoding, checks, one SQLite transaction with its fsync) with 60 students sending
// at once. The rate limit is lifted: it measures the server, not the limit.
//
//	go test -run XXX -bench ClassPicks -benchtime 2000x .
func BenchmarkClassPicks(b *testing.B) {
	cs := newClassServer(b)
	code, _ := cs.openClass("en")
	cs.api.limiter = newRateLimiter(1<<30, time.Second, maxBuckets, time.Now)
	prompts := classPrompts(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: classStudents}}
	defer client.CloseIdleConnections()
	url := cs.srv.URL + "/api/class/" + code + "/picks"
	var (
		mu        sync.Mutex
		latencies []time.Duration
		next      atomic.Int64
	)
	b.SetParallelism(max(1, classStudents/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		student := fmt.Sprintf("student-%03d", next.Add(1))
		var mine []time.Duration
		for i := 0; pb.Next(); i++ {
			req := classstore.PicksRequest{Student: student, Picks: testPicks(prompts, student, 8*i, 8)}
			t0 := time.Now()
			if _, err := postPicks(context.Background(), client, url, req); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		latencies = append(latencies, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	if len(latencies) == 0 {
		return
	}
	slices.Sort(latencies)
	at := func(q float64) float64 {
		return float64(latencies[min(len(latencies)-1, int(q*float64(len(latencies))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(float64(8*len(latencies))/b.Elapsed().Seconds(), "picks/s")
}
