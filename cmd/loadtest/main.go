// Command loadtest measures the console under load: it builds a large
// account in a fresh database, serves it on 127.0.0.1 together with a
// bare Echo handler (the ceiling of the machine), and for 1, 8 and 32
// concurrent clients sends requests to each list for a bounded time, then
// prints requests per second, p50 and p99 latency, CPU per request and
// the process's resident memory.
//
//	go run ./cmd/loadtest [-vehicles 100000] [-members 10000] [-clients 10000] [-duration 5s] [-concurrency 1,8,32]
//
// -keep FILE generates the account into FILE and stops: a database that
// `fleetgate serve --db FILE` serves, with the demo logins (password
// fleetgate-demo) and manager@demo.test managing one region of a tenth of
// the vehicles, allowed the mobile channel, so that it can take an API
// token (POST /api/v1/tokens) for any load tool.
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
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"

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
	workers := flag.Int("workers", 8, "concurrent clients of -record")
	duration := flag.Duration("duration", 5*time.Second, "how long each run sends requests (at most 2m)")
	maxRequests := flag.Int("max-requests", 200_000, "stop after this many requests")
	trips := flag.Int("trips", 0, "generated trips per generated vehicle")
	dbPath := flag.String("db", "", "keep the database in this file (an existing file is used as it is)")
	generateOnly := flag.Bool("generate-only", false, "stop after generating the database")
	keep := flag.String("keep", "", "generate the account into this new file and stop (a database fleetgate serve can serve)")
	concurrency := flag.String("concurrency", "1,8,32", "concurrent clients of each run, comma-separated")
	record := flag.Bool("record", false, "record trips through the API instead of reading pages")
	flag.Parse()
	if *duration > 2*time.Minute {
		*duration = 2 * time.Minute
	}
	ctx := context.Background()
	path := *dbPath
	reuse := false
	if *keep != "" {
		if _, err := os.Stat(*keep); err == nil {
			return fmt.Errorf("-keep %s: the file exists; name a new one", *keep)
		}
		path, *generateOnly = *keep, true
	}
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
		if *keep != "" {
			fmt.Printf("kept in %s: fleetgate serve --db %s; logins owner@, admin@, manager@ (one region), accountant@, driver@demo.test, password %s\n",
				*keep, *keep, db.DemoPassword)
		}
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

	if *record {
		// The Owner records through the mobile channel.
		if err := d.ExecForTest(ctx, `UPDATE members SET channel = 'both' WHERE id = ?`, owner.MemberID); err != nil {
			return err
		}
		return recordLoad(base, *workers, *duration, *maxRequests)
	}
	var levels []int
	for _, f := range strings.Split(*concurrency, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 256 {
			return fmt.Errorf("-concurrency: %q is not a number of clients (1-256)", f)
		}
		levels = append(levels, n)
	}
	return lists(base, levels, *duration, *maxRequests)
}

// bare serves one Echo handler that answers "ok" on 127.0.0.1: what the
// machine, the HTTP stack and the load client manage without any work.
func bare() (string, func(), error) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: e}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// target is one address loaded by one person.
type target struct {
	name, path string
	client     *http.Client
	header     http.Header
}

// lists loads each list, and the bare handler, at each concurrency in
// turn, and prints one line per run.
func lists(base string, levels []int, duration time.Duration, maxRequests int) error {
	ownerC, err := login(base, "owner@demo.test", db.DemoPassword)
	if err != nil {
		return err
	}
	mgrC, err := login(base, "manager@demo.test", db.DemoPassword)
	if err != nil {
		return err
	}
	token, err := apiToken(base, "manager@demo.test")
	if err != nil {
		return err
	}
	bareBase, stop, err := bare()
	if err != nil {
		return err
	}
	defer stop()
	plain := &http.Client{Timeout: 30 * time.Second}
	auth := http.Header{"Authorization": {"Bearer " + token}}
	targets := []target{
		{"bare Echo handler", bareBase + "/", plain, nil},
		{"manager GET /api/v1/vehicles?limit=50", base + "/api/v1/vehicles?limit=50", plain, auth},
		{"manager /vehicles", base + "/vehicles", mgrC, nil},
		{"owner /vehicles", base + "/vehicles", ownerC, nil},
		{"owner /vehicles?group=<a depot>", base + "/vehicles?group=20", ownerC, nil},
		{"owner /pairing", base + "/pairing", ownerC, nil},
		{"manager /pairing", base + "/pairing", mgrC, nil},
		{"owner /users", base + "/users", ownerC, nil},
		{"manager /clients", base + "/clients", mgrC, nil},
		{"owner /audit", base + "/audit", ownerC, nil},
	}
	fmt.Printf("%-40s %5s %9s %9s %9s %12s %8s\n", "who and address", "conc", "req/s", "p50", "p99", "CPU ms/req*", "RSS MB")
	failed := 0
	for _, n := range levels {
		for _, t := range targets {
			r := load(t, n, duration, maxRequests)
			failed += r.failed
			fmt.Printf("%-40s %5d %9.0f %9s %9s %12.2f %8d\n", t.name, n, r.rps, r.p50, r.p99, r.cpuPerReq, rssMB())
		}
	}
	fmt.Println("* CPU of this process (server and load client together) per request")
	if failed > 0 {
		return fmt.Errorf("%d requests failed", failed)
	}
	return nil
}

type result struct {
	rps       float64
	p50, p99  time.Duration
	cpuPerReq float64
	failed    int
}

// load sends requests to t from n clients for duration (or until
// maxRequests) and measures them.
func load(t target, n int, duration time.Duration, maxRequests int) result {
	var mu sync.Mutex
	var durs []time.Duration
	failed, sent := 0, 0
	cpu0 := cpuTime()
	start := time.Now()
	deadline := start.Add(duration)
	var wg sync.WaitGroup
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				mu.Lock()
				if sent >= maxRequests {
					mu.Unlock()
					return
				}
				sent++
				mu.Unlock()
				req, _ := http.NewRequest(http.MethodGet, t.path, nil)
				for k, v := range t.header {
					req.Header[k] = v
				}
				t0 := time.Now()
				res, err := t.client.Do(req)
				ok := err == nil && res.StatusCode == http.StatusOK
				if err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				d := time.Since(t0)
				mu.Lock()
				durs = append(durs, d)
				if !ok {
					failed++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	cpu := cpuTime() - cpu0
	sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
	pct := func(p float64) time.Duration {
		if len(durs) == 0 {
			return 0
		}
		return durs[min(len(durs)-1, int(p*float64(len(durs))))].Round(10 * time.Microsecond)
	}
	r := result{rps: float64(len(durs)) / el.Seconds(), p50: pct(.5), p99: pct(.99), failed: failed}
	if len(durs) > 0 {
		r.cpuPerReq = float64(cpu.Microseconds()) / 1000 / float64(len(durs))
	}
	return r
}

// apiToken takes an API token of a demo login.
func apiToken(base, email string) (string, error) {
	res, err := http.Post(base+"/api/v1/tokens", "application/json",
		strings.NewReader(`{"email":"`+email+`","password":"`+db.DemoPassword+`"}`))
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var tok struct{ Token string }
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || tok.Token == "" {
		return "", fmt.Errorf("token of %s: %d %v", email, res.StatusCode, err)
	}
	return tok.Token, nil
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
	// The demo manager manages one region of the large fleet (instead of
	// the demo's North) and may use the mobile channel (an API token).
	for _, q := range []string{
		`DELETE FROM member_group_grants WHERE member_id = (SELECT m.id FROM members m JOIN users u ON u.id = m.user_id
			WHERE u.email = 'manager@demo.test' AND m.account_id = ?)`,
		`INSERT INTO member_group_grants (member_id, group_id, level, created_at)
		SELECT m.id, g.id, 'manage', '' FROM members m JOIN users u ON u.id = m.user_id, vehicle_groups g
		 WHERE u.email = 'manager@demo.test' AND g.name = 'Region 01' AND g.account_id = m.account_id AND m.account_id = ?`,
		`UPDATE members SET channel = 'both' WHERE account_id = ? AND user_id = (SELECT id FROM users WHERE email = 'manager@demo.test')`,
	} {
		if err := d.ExecForTest(ctx, q, owner.AccountID); err != nil {
			return err
		}
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

// cpuTime is the CPU time this process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssMB is this process's resident memory in MiB (0 where /proc is missing).
func rssMB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return kb / 1024
		}
	}
	return 0
}
