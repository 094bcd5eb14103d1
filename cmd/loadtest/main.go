// Command loadtest measures the console under load: it builds a large
// account in a fresh database, serves it on 127.0.0.1 and sends requests
// from several workers for a bounded time, then prints throughput and
// latency percentiles per address.
//
//	go run ./cmd/loadtest [-members 10000] [-workers 8] [-duration 10s]
//
// With -trips N every generated vehicle gets N trips; -db FILE keeps the
// generated database in FILE (an existing FILE is used as it is, without
// generating again), and -generate-only stops after generating. -record
// measures recording trips through the API (POST /api/v1/trips) instead
// of reading pages.
//
// It only ever targets the loopback address it listens on itself.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"fleetgate/db"
	"fleetgate/handlers"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run() error {
	members := flag.Int("members", 10_000, "generated members in the demo account")
	vehicles := flag.Int("vehicles", 100_000, "generated vehicles (10 regions of 10 depots)")
	clients := flag.Int("clients", 10_000, "generated clients")
	workers := flag.Int("workers", 8, "concurrent clients")
	duration := flag.Duration("duration", 10*time.Second, "how long to send requests (at most 2m)")
	maxRequests := flag.Int("max-requests", 200_000, "stop after this many requests")
	trips := flag.Int("trips", 0, "generated trips per generated vehicle")
	dbPath := flag.String("db", "", "keep the database in this file (an existing file is used as it is)")
	generateOnly := flag.Bool("generate-only", false, "stop after generating the database")
	record := flag.Bool("record", false, "record trips through the API instead of reading pages")
	flag.Parse()
	if *duration > 2*time.Minute {
		*duration = 2 * time.Minute
	}
	ctx := context.Background()
	path := *dbPath
	reuse := false
	if path == "" {
		dir, err := os.MkdirTemp("", "fleetgate-load")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "load.db")
	} else if _, err := os.Stat(path); err == nil {
		reuse = true
	}
	d, err := db.Open(ctx, path)
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := d.EnsureDemo(ctx); err != nil {
		return err
	}
	owner, err := d.ActorByMember(ctx, 1)
	if err != nil {
		return err
	}
	if !reuse {
		if err := generate(ctx, d, owner, *members, *vehicles, *clients, *trips); err != nil {
			return err
		}
	}
	if *generateOnly {
		return nil
	}

	e, _, err := handlers.New(ctx, d, handlers.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: e}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	// Each worker is one person; half are the Owner (all vehicles), half
	// the Manager scoped to one region.
	if *record {
		// The Owner records through the mobile channel.
		if err := d.ExecForTest(ctx, `UPDATE members SET channel = 'both' WHERE id = ?`, owner.MemberID); err != nil {
			return err
		}
		return recordLoad(base, *workers, *duration, *maxRequests)
	}
	ownerPaths := []string{"/users", "/users?page=200", "/users?q=person+00042", "/users?status=deactivated&page=5",
		"/vehicles", "/vehicles?page=200", "/vehicles?q=vehicle+0042", "/pairing", "/pairing?vq=0042&cq=0042"}
	managerPaths := []string{"/vehicles", "/vehicles?page=50", "/vehicles?q=vehicle+0042", "/pairing", "/clients"}
	type sample struct {
		path string
		dur  time.Duration
		ok   bool
	}
	var mu sync.Mutex
	var samples []sample
	deadline := time.Now().Add(*duration)
	var sent int
	var wg sync.WaitGroup
	for w := 0; w < *workers; w++ {
		who, paths := "owner", ownerPaths
		if w%2 == 1 {
			who, paths = "manager", managerPaths
		}
		c, err := login(base, who+"@demo.test", db.DemoPassword)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; time.Now().Before(deadline); i++ {
				mu.Lock()
				if sent >= *maxRequests {
					mu.Unlock()
					return
				}
				sent++
				mu.Unlock()
				p := paths[i%len(paths)]
				key := who + " " + p
				t0 := time.Now()
				req, _ := http.NewRequest(http.MethodGet, base+p, nil)
				req.Header.Set("HX-Request", "true")
				res, err := c.Do(req)
				ok := err == nil && res.StatusCode == 200
				if err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				mu.Lock()
				samples = append(samples, sample{key, time.Since(t0), ok})
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	byPath := map[string][]time.Duration{}
	failed := 0
	for _, s := range samples {
		if !s.ok {
			failed++
		}
		byPath[s.path] = append(byPath[s.path], s.dur)
	}
	fmt.Printf("%d requests in %s with %d workers: %.0f req/s, %d failed\n", len(samples), duration.String(), *workers,
		float64(len(samples))/duration.Seconds(), failed)
	fmt.Printf("%-50s %7s %9s %9s %9s\n", "who and address", "count", "p50", "p95", "p99")
	keys := make([]string, 0, len(byPath))
	for k := range byPath {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ds := byPath[k]
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		pct := func(p float64) time.Duration {
			return ds[min(len(ds)-1, int(p*float64(len(ds))))].Round(10 * time.Microsecond)
		}
		fmt.Printf("%-50s %7d %9s %9s %9s\n", k, len(ds), pct(.50), pct(.95), pct(.99))
	}
	if failed > 0 {
		return fmt.Errorf("%d requests failed", failed)
	}
	return nil
}

// login returns an HTTP client holding a session of the given login.
func login(base, email, pw string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(base + "/login")
	if err != nil {
		return nil, err
	}
	res.Body.Close()
	u, _ := url.Parse(base)
	var csrf string
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "fleetgate_csrf" {
			csrf = ck.Value
		}
	}
	res, err = c.PostForm(base+"/login", url.Values{"email": {email}, "password": {pw}, "_csrf": {csrf}})
	if err != nil {
		return nil, err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || strings.Contains(res.Header.Get("Location"), "login") {
		return nil, fmt.Errorf("login %s: %d", email, res.StatusCode)
	}
	return c, nil
}

// generate fills the demo account with a large generated one.
func generate(ctx context.Context, d *db.DB, owner *db.Actor, members, vehicles, clients, trips int) error {
	start := time.Now()
	if err := d.GenerateMembers(ctx, owner.AccountID, members, "x"); err != nil {
		return err
	}
	if err := d.GenerateFleet(ctx, owner.AccountID, vehicles, clients); err != nil {
		return err
	}
	// Grants, sign-ins, tokens and 30 days of permission uses of the
	// generated members, for the access review.
	if err := d.GenerateAccessHistory(ctx, owner.AccountID, 30); err != nil {
		return err
	}
	// The demo manager manages one region of the large fleet.
	if err := d.ExecForTest(ctx, `INSERT INTO member_group_grants (member_id, group_id, level, created_at)
		SELECT m.id, g.id, 'manage', '' FROM members m JOIN users u ON u.id = m.user_id, vehicle_groups g
		 WHERE u.email = 'manager@demo.test' AND g.name = 'Region 01' AND g.account_id = m.account_id`); err != nil {
		return err
	}
	fmt.Printf("generated %d members, %d vehicles, %d clients in %s\n", members, vehicles, clients, time.Since(start).Round(time.Millisecond))
	if trips > 0 {
		start = time.Now()
		last := time.Now()
		err := d.GenerateTrips(ctx, owner.AccountID, trips, func(done, of int) {
			if time.Since(last) > 10*time.Second || done == of {
				last = time.Now()
				fmt.Printf("  trips of %d/%d vehicles after %s\n", done, of, time.Since(start).Round(time.Second))
			}
		})
		if err != nil {
			return err
		}
		fmt.Printf("generated %d trips in %s\n", trips*vehicles, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// recordLoad records trips through the API from several clients (the
// Owner's token, each worker on vehicles of its own) and prints the rate.
func recordLoad(base string, workers int, duration time.Duration, maxRequests int) error {
	res, err := http.Post(base+"/api/v1/tokens", "application/json",
		strings.NewReader(`{"email":"owner@demo.test","password":"`+db.DemoPassword+`"}`))
	if err != nil {
		return err
	}
	var tok struct{ Token string }
	err = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if err != nil || tok.Token == "" {
		return fmt.Errorf("token: %d %v", res.StatusCode, err)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	var mu sync.Mutex
	var durs []time.Duration
	failed, sent := 0, 0
	start := time.Now()
	deadline := start.Add(duration)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := &http.Client{Timeout: 30 * time.Second}
			for i := 0; time.Now().Before(deadline); i++ {
				mu.Lock()
				if sent >= maxRequests {
					mu.Unlock()
					return
				}
				sent++
				mu.Unlock()
				body := fmt.Sprintf(`{"vehicle_id":%d,"date":"%s","distance_km":%d,"purpose":"business"}`, 1+(w*7+i)%40, today, 5+i%30)
				req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/trips", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tok.Token)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", fmt.Sprintf("load-%d-%d-%d", start.UnixNano(), w, i))
				t0 := time.Now()
				res, err := c.Do(req)
				ok := err == nil && res.StatusCode == http.StatusCreated
				if err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				mu.Lock()
				durs = append(durs, time.Since(t0))
				if !ok {
					failed++
				}
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	el := time.Since(start)
	sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
	pct := func(p float64) time.Duration {
		return durs[min(len(durs)-1, int(p*float64(len(durs))))].Round(10 * time.Microsecond)
	}
	fmt.Printf("recorded %d trips via POST /api/v1/trips in %s with %d workers: %.0f req/s, p50 %s, p95 %s, p99 %s, %d failed\n",
		len(durs), el.Round(time.Millisecond), workers, float64(len(durs))/el.Seconds(), pct(.5), pct(.95), pct(.99), failed)
	if failed > 0 {
		return fmt.Errorf("%d requests failed", failed)
	}
	return nil
}
