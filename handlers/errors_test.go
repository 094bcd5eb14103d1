package handlers_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/handlers"
)

// One mapping from db.Code to status, whatever answers: a page, an htmx
// fragment or problem+json; errors wrapped with the operation's name keep
// their code, and internal errors never show their text.
func TestErrorMapping(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	cases := []struct {
		code   db.Code
		status int
	}{
		{db.ENotFound, 404}, {db.EConflict, 409}, {db.EInvalid, 422},
		{db.EForbidden, 403}, {db.EThrottled, 429}, {"", 500},
	}
	for _, tc := range cases {
		if got := handlers.Status(tc.code); got != tc.status {
			t.Errorf("Status(%q) = %d, want %d", tc.code, got, tc.status)
		}
	}
	fail := func(c echo.Context) error {
		code := db.Code(c.Param("code"))
		if code == "internal" {
			return fmt.Errorf("update member: %w", fmt.Errorf("secret internal detail"))
		}
		return fmt.Errorf("update member: %w", &db.Error{Code: code, Message: "Safe message for " + string(code) + ".", RetryAfter: 7})
	}
	a.e.GET("/test-error/:code", fail)
	a.e.GET("/api/v1/test-error/:code", fail)
	c := a.client()
	for _, tc := range cases {
		name := string(tc.code)
		if name == "" {
			name = "internal"
		}
		safe := "Safe message for " + name + "."
		if name == "internal" {
			safe = "The server could not answer."
		}
		page := c.get("/test-error/" + name)
		if page.status != tc.status || !strings.Contains(page.body, "<html") || !strings.Contains(page.body, safe) {
			t.Errorf("page %s: %d, want %d with %q", name, page.status, tc.status, safe)
		}
		frag := c.get("/test-error/"+name, "HX-Request", "true", "HX-Target", "main")
		if frag.status != tc.status || strings.Contains(frag.body, "<html") || !strings.Contains(frag.body, safe) {
			t.Errorf("htmx %s: %d, want %d fragment with %q: %s", name, frag.status, tc.status, safe, frag.body)
		}
		api := c.get("/api/v1/test-error/" + name)
		var p struct {
			Status int
			Detail string
		}
		_ = json.Unmarshal([]byte(api.body), &p)
		if api.status != tc.status || api.header.Get("Content-Type") != "application/problem+json" || p.Status != tc.status || !strings.Contains(p.Detail, safe) {
			t.Errorf("api %s: %d %q %s", name, api.status, api.header.Get("Content-Type"), api.body)
		}
		for _, r := range []response{page, frag, api} {
			if strings.Contains(r.body, "secret internal detail") || strings.Contains(r.body, "update member") {
				t.Errorf("%s: internal text shown: %s", name, r.body)
			}
		}
		if tc.code == db.EThrottled && (page.header.Get("Retry-After") != "7" || api.header.Get("Retry-After") != "7") {
			t.Errorf("throttled: Retry-After %q / %q", page.header.Get("Retry-After"), api.header.Get("Retry-After"))
		}
	}
}
