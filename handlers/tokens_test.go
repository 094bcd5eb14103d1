package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"fleetgate/db"
)

// newIntegrationToken makes a token on My profile and returns it as shown once.
func newIntegrationToken(t testing.TB, c *client, name string, days int, readOnly bool) string {
	t.Helper()
	v := url.Values{"name": {name}, "days": {fmt.Sprint(days)}}
	if readOnly {
		v.Set("read_only", "1")
	}
	res := c.postForm("/profile/tokens", v)
	token := res.doc().Find("[data-testid=new-token]").AttrOr("value", "")
	if res.status != http.StatusOK || !strings.HasPrefix(token, "fgt_") {
		t.Fatalf("new token: %d %s", res.status, res.body)
	}
	return token
}

func TestIntegrationTokenForAWebOnlyMember(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.login("owner@demo.test") // the Owner's channel is web only
	// The app's token is refused for the channel...
	if res := a.client().api(http.MethodPost, "/api/v1/tokens", "", `{"email":"owner@demo.test","password":"`+db.DemoPassword+`"}`); res.status != http.StatusForbidden {
		t.Fatalf("mobile token for a web-only member: %d", res.status)
	}
	// ...an integration token works.
	token := newIntegrationToken(t, owner, "Accounting export", 30, false)
	api := a.client()
	res := api.api(http.MethodGet, "/api/v1/me", token, "")
	var me struct{ Email, Role string }
	if err := json.Unmarshal([]byte(res.body), &me); err != nil || res.status != 200 || me.Email != "owner@demo.test" {
		t.Fatalf("me: %d %s", res.status, res.body)
	}
	if res := api.api(http.MethodGet, "/api/v1/users", token, ""); res.status != 200 {
		t.Fatalf("users: %d", res.status)
	}
	// Listed on My profile with its expiry and use; not shown again.
	page := owner.get("/profile")
	if strings.Contains(page.body, token) {
		t.Fatal("token shown again")
	}
	rows := page.find("[data-testid=token-row]")
	want := a.db.Now().Add(30 * 24 * time.Hour).Format("2006-01-02")
	if len(rows) != 1 || !strings.Contains(rows[0], "Accounting export") || !strings.Contains(rows[0], want) || strings.Contains(rows[0], "never") {
		t.Fatalf("rows: %q (want expiry %s and a last use)", rows, want)
	}
	act, _ := a.db.ActorByMember(t.Context(), memberID(t, a, "owner@demo.test"))
	if es := auditEntries(t, a, act, "token.create"); len(es) != 1 || !strings.Contains(es[0].Summary, "Accounting export") {
		t.Fatalf("audit create: %+v", es)
	}
	// The default expiry is 90 days; another length must be offered.
	if res := owner.postForm("/profile/tokens", url.Values{"name": {"x"}, "days": {"7"}}); res.status != http.StatusUnprocessableEntity || fieldMsg(res, "days") == "" {
		t.Fatalf("7 days: %d", res.status)
	}
	if res := owner.postForm("/profile/tokens", url.Values{"name": {""}, "days": {"90"}}); res.status != http.StatusUnprocessableEntity || fieldMsg(res, "name") == "" {
		t.Fatalf("no name: %d", res.status)
	}
	if res := owner.get("/profile"); res.doc().Find("#token-days option[selected]").AttrOr("value", "") != "90" {
		t.Fatal("90 days is not the default")
	}
	// Rights are evaluated per request: demoted from Owner's rights is not
	// possible, so take an Admin's token and narrow the Admin role.
	admin := a.login("admin@demo.test")
	adminToken := newIntegrationToken(t, admin, "script", 90, false)
	if res := api.api(http.MethodGet, "/api/v1/users", adminToken, ""); res.status != 200 {
		t.Fatalf("admin users: %d", res.status)
	}
	mustExec(t, a, `UPDATE members SET role_id = (SELECT id FROM roles WHERE name = 'Driver' AND account_id = members.account_id) WHERE id = ?`, memberID(t, a, "admin@demo.test"))
	if res := api.api(http.MethodGet, "/api/v1/users", adminToken, ""); res.status != http.StatusForbidden {
		t.Fatalf("after demotion: %d", res.status)
	}
	// Revoked one by one: someone else's token is not found, one's own ends.
	var ownerTokenID, adminTokenID int64
	if err := a.db.QueryRowForTest(t.Context(), `SELECT id FROM api_tokens WHERE name = 'Accounting export'`).Scan(&ownerTokenID); err != nil {
		t.Fatal(err)
	}
	if err := a.db.QueryRowForTest(t.Context(), `SELECT id FROM api_tokens WHERE name = 'script'`).Scan(&adminTokenID); err != nil {
		t.Fatal(err)
	}
	if res := owner.postForm(fmt.Sprintf("/profile/tokens/%d/revoke", adminTokenID), nil); res.status != http.StatusNotFound {
		t.Fatalf("someone else's token: %d", res.status)
	}
	if res := owner.postForm(fmt.Sprintf("/profile/tokens/%d/revoke", ownerTokenID), nil); res.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", res.status)
	}
	if res := api.api(http.MethodGet, "/api/v1/me", token, ""); res.status != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d", res.status)
	}
	if res := api.api(http.MethodGet, "/api/v1/me", adminToken, ""); res.status != 200 {
		t.Fatalf("the other token: %d", res.status)
	}
	if es := auditEntries(t, a, act, "token.revoke"); len(es) != 1 {
		t.Fatalf("audit revoke: %d", len(es))
	}
}

func TestReadOnlyTokenOnlyReads(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.login("owner@demo.test")
	ro := newIntegrationToken(t, owner, "dashboard", 90, true)
	rw := newIntegrationToken(t, owner, "sync", 90, false)
	api := a.client()
	if res := api.api(http.MethodGet, "/api/v1/vehicles", ro, ""); res.status != 200 {
		t.Fatalf("read: %d", res.status)
	}
	res := api.api(http.MethodDelete, "/api/v1/tokens/current", ro, "")
	if res.status != http.StatusForbidden || !strings.Contains(problemDetail(t, res), "read-only") {
		t.Fatalf("write with a read-only token: %d %s", res.status, res.body)
	}
	if res := api.api(http.MethodGet, "/api/v1/me", ro, ""); res.status != 200 {
		t.Fatalf("still works: %d", res.status)
	}
	if res := api.api(http.MethodDelete, "/api/v1/tokens/current", rw, ""); res.status != http.StatusNoContent {
		t.Fatalf("write with a read-write token: %d", res.status)
	}
	if rows := owner.get("/profile").find("[data-testid=token-access]"); len(rows) != 1 || rows[0] != "Read only" {
		t.Fatalf("access column: %q", rows)
	}
}

func TestIntegrationTokensEnd(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.login("owner@demo.test")
	accountant := a.login("accountant@demo.test") // web only
	token := newIntegrationToken(t, accountant, "books", 365, true)
	api := a.client()
	if res := api.api(http.MethodGet, "/api/v1/me", token, ""); res.status != 200 {
		t.Fatalf("works: %d", res.status)
	}
	// A password change ends the login's tokens.
	res := accountant.postForm("/profile/password", url.Values{"current_password": {db.DemoPassword},
		"new_password": {"a-new-long-password"}, "new_password_again": {"a-new-long-password"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("password change: %d %s", res.status, res.body)
	}
	if res := api.api(http.MethodGet, "/api/v1/me", token, ""); res.status != http.StatusUnauthorized {
		t.Fatalf("after password change: %d", res.status)
	}
	// Deactivation ends them too.
	token = newIntegrationToken(t, accountant, "books again", 90, false)
	if res := api.api(http.MethodGet, "/api/v1/me", token, ""); res.status != 200 {
		t.Fatalf("new token: %d", res.status)
	}
	owner.postForm(fmt.Sprintf("/users/%d/deactivate", memberID(t, a, "accountant@demo.test")), url.Values{"handover": {"revoke"}})
	if res := api.api(http.MethodGet, "/api/v1/me", token, ""); res.status != http.StatusUnauthorized {
		t.Fatalf("after deactivation: %d", res.status)
	}
	// And the expiry.
	token = newIntegrationToken(t, owner, "short", 30, false)
	a.db.Now = func() time.Time { return time.Now().UTC().Add(31 * 24 * time.Hour) }
	if res := api.api(http.MethodGet, "/api/v1/me", token, ""); res.status != http.StatusUnauthorized {
		t.Fatalf("after expiry: %d", res.status)
	}
}
