package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// postJSON posts body to url and returns the status; header is pairs of
// names and values.
func postJSON(t *testing.T, url, body string, header ...string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestServeLogs: start-up on a new file with --demo makes the database
// and the demo account (the other command tests copy a template instead)
// and names the version, the database and the address; failed logins and a lockout are logged with the client
// address; every request has an access-log line with its request id; a
// stop through the context ends with status 0.
func TestServeLogs(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "logs.db")
	addr, out, stop := startServe(t, nil, "--db", dbPath, "--demo")
	base := "http://" + addr

	// Five wrong passwords for one e-mail lock it (the per-e-mail throttle).
	for range 5 {
		if st := postJSON(t, base+"/api/v1/tokens", `{"email":"driver@demo.test","password":"wrong"}`); st != http.StatusUnauthorized {
			t.Fatalf("wrong password: status %d", st)
		}
	}
	if st := postJSON(t, base+"/api/v1/tokens", `{"email":"driver@demo.test","password":"wrong"}`); st != http.StatusTooManyRequests {
		t.Fatalf("after five failures: status %d, want 429", st)
	}
	// A request id sent by a proxy is kept and echoed; one is made otherwise.
	req, _ := http.NewRequest("GET", base+"/no-such-page", nil)
	req.Header.Set("X-Request-Id", "proxy-id-42")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("X-Request-Id"); got != "proxy-id-42" {
		t.Errorf("X-Request-Id echoed as %q", got)
	}
	res, err = http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	made := res.Header.Get("X-Request-Id")
	if len(made) < 16 {
		t.Errorf("made request id %q", made)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v", err)
	}

	log := out.String()
	for _, want := range []string{
		`msg="starting Fleetgate" version=`,
		`msg="database opened" database=` + dbPath + " ",
		`Created the demo account "`,
		`msg="Fleetgate is listening" url=http://` + addr + " ",
		`msg="e-mail is not set up`,
		`level=WARN msg="login failed" email=driver@demo.test ip=127.0.0.1 request_id=`,
		`level=WARN msg="login locked after repeated failures" key=email:driver@demo.test`,
		`level=WARN msg="login refused: locked" email=driver@demo.test key=email:driver@demo.test`,
		`msg=request method=POST path=/api/v1/tokens status=401 `,
		`msg=request method=POST path=/api/v1/tokens status=429 `,
		`msg=request method=GET path=/no-such-page status=404 `,
		"request_id=proxy-id-42",
		"request_id=" + made,
		`msg="shutting down"`,
		`msg=stopped`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if n := strings.Count(log, `msg="login failed"`); n != 5 {
		t.Errorf("%d failed logins logged, want 5", n)
	}
	if n := strings.Count(log, `msg="login locked after repeated failures"`); n != 1 {
		t.Errorf("%d lockouts logged, want 1", n)
	}
	if t.Failed() {
		t.Log(log)
	}
}

// TestServeLogOptions: --log-format json writes one JSON object per line;
// --access-log=false drops the request lines but keeps the security ones;
// --log-level warn drops the info lines; the client address comes from
// X-Forwarded-For only when sent by a trusted proxy.
func TestServeLogOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want func(t *testing.T, log string)
	}{
		{"json", nil, []string{"--log-format=json"}, func(t *testing.T, log string) {
			var sawDB, sawFail bool
			for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatalf("not JSON: %q", line)
				}
				switch m["msg"] {
				case "database opened":
					sawDB = strings.HasSuffix(m["database"].(string), "x.db") || m["store"] == "postgres"
				case "login failed":
					sawFail = m["ip"] == "127.0.0.1" && m["level"] == "WARN"
				}
			}
			if !sawDB || !sawFail {
				t.Errorf("database line %v, failed login line %v:\n%s", sawDB, sawFail, log)
			}
		}},
		{"no access log", map[string]string{"FLEETGATE_ACCESS_LOG": "false"}, nil, func(t *testing.T, log string) {
			if strings.Contains(log, "msg=request ") {
				t.Errorf("access log written:\n%s", log)
			}
			if !strings.Contains(log, `msg="login failed"`) || !strings.Contains(log, "access_log=false") {
				t.Errorf("security or start-up line missing:\n%s", log)
			}
		}},
		{"trusted proxy", nil, []string{"--trust-proxy=127.0.0.1"}, func(t *testing.T, log string) {
			if !strings.Contains(log, `msg="login failed" email=nobody@example.com ip=203.0.113.9 `) || !strings.Contains(log, "trust_proxy=127.0.0.1") {
				t.Errorf("address not taken from the trusted proxy's header:\n%s", log)
			}
		}},
		{"other proxy", map[string]string{"FLEETGATE_TRUST_PROXY": "10.0.0.1"}, nil, func(t *testing.T, log string) {
			if !strings.Contains(log, `msg="login failed" email=nobody@example.com ip=127.0.0.1 `) {
				t.Errorf("header believed from an untrusted address:\n%s", log)
			}
		}},
		{"no proxy", nil, nil, func(t *testing.T, log string) {
			if !strings.Contains(log, `msg="login failed" email=nobody@example.com ip=127.0.0.1 `) || !strings.Contains(log, "trust_proxy=none") {
				t.Errorf("header believed without --trust-proxy:\n%s", log)
			}
		}},
		{"e-mail set up", map[string]string{"FLEETGATE_SMTP_HOST": "mail.example.com", "FLEETGATE_SMTP_FROM": "fleet@example.com", "FLEETGATE_BASE_URL": "https://fleet.example.com",
			"FLEETGATE_SMTP_USER": "fleet", "FLEETGATE_SMTP_PASSWORD": "s3cret-pw"}, nil, func(t *testing.T, log string) {
			if !strings.Contains(log, `msg="e-mail is set up" smtp=mail.example.com:587 tls=starttls from=fleet@example.com auth=true`) {
				t.Errorf("no e-mail line:\n%s", log)
			}
			if strings.Contains(log, "s3cret-pw") {
				t.Errorf("the SMTP password is in the log:\n%s", log)
			}
		}},
		{"warn level", nil, []string{"--log-level", "warn"}, func(t *testing.T, log string) {
			if strings.Contains(log, "level=INFO") {
				t.Errorf("info lines written at warn level:\n%s", log)
			}
			if !strings.Contains(log, `level=WARN msg="login failed"`) {
				t.Errorf("warning missing:\n%s", log)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"--db", migratedDB.PathAs(t, "x.db")}, tt.args...)
			addr, out, stop := startServe(t, tt.env, args...)
			if st := postJSON(t, "http://"+addr+"/api/v1/tokens", `{"email":"nobody@example.com","password":"wrong"}`, "X-Forwarded-For", "203.0.113.9"); st != http.StatusUnauthorized {
				t.Fatalf("status %d", st)
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			tt.want(t, out.String())
		})
	}
}
