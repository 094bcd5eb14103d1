package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/perm"
	"fleetgate/views"
)

const auditPerPage = 50

// auditLog is the audit log page and, for htmx, its results fragment:
// who did what to whom and when, filterable by person and kind of change.
func (s *Server) auditLog(c echo.Context) error {
	ctx := c.Request().Context()
	a := actor(c)
	people, f, err := s.auditQuery(c, hxTarget(c) != "audit-results")
	if err != nil {
		return err
	}
	p := views.AuditPage{People: people, Kind: f.Kind, ActorID: f.ActorID, From: f.From, To: f.To, CanExport: a.Can(perm.ReportsExport)}
	// One page read through the index from a cursor (an event id); the
	// count of all matches only when asked for.
	f.Page, f.PerPage = queryInt(c, "page"), auditPerPage
	f.After, f.Before = clip(c.QueryParam("after"), 30), clip(c.QueryParam("before"), 30)
	f.Count = c.QueryParam("count") == "1"
	entries, ks, err := s.db.AuditPage(ctx, a, f)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p.Rows = append(p.Rows, views.AuditRow{Entry: e, Changes: auditChanges(e.Before, e.After)})
	}
	params := url.Values{"kind": {p.Kind}, "from": {p.From}, "to": {p.To}}
	if p.ActorID != 0 {
		params.Set("person", strconv.FormatInt(p.ActorID, 10))
	}
	p.Pager = views.Pager{Keyset: true, Next: ks.Next, Prev: ks.Prev, Total: ks.Total, Shown: len(entries), PerPage: auditPerPage,
		Base: "/audit", Params: params}
	if hxTarget(c) == "audit-results" {
		return render(c, http.StatusOK, views.AuditResults(p))
	}
	p.Shell = s.shell(c, "Audit log", "/audit")
	return render(c, http.StatusOK, views.Audit(p))
}

// auditDay keeps a date filter only if it is a date.
func auditDay(s string) string {
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return ""
	}
	return s
}

// auditQuery reads the log's filter from the query string: a person of
// the account, a kind, and a date range; what is not valid is no filter.
// With withPeople it returns the account's people too, for the page's
// person filter; without, the person is looked up alone (the results
// fragment and the export have no use for all the account's members).
func (s *Server) auditQuery(c echo.Context, withPeople bool) ([]db.Person, db.AuditFilter, error) {
	ctx, a := c.Request().Context(), actor(c)
	var people []db.Person
	if withPeople {
		var err error
		if people, err = s.db.AccountPeople(ctx, a); err != nil {
			return nil, db.AuditFilter{}, err
		}
	}
	f := db.AuditFilter{Kind: auditKind(c.QueryParam("kind")), From: auditDay(c.QueryParam("from")), To: auditDay(c.QueryParam("to"))}
	if id, err := strconv.ParseInt(c.QueryParam("person"), 10, 64); err == nil {
		if withPeople {
			for _, m := range people {
				if m.ID == id {
					f.ActorID = id
				}
			}
		} else if ok, err := s.db.IsAccountMember(ctx, a, id); err != nil {
			return nil, db.AuditFilter{}, err
		} else if ok {
			f.ActorID = id
		}
	}
	return people, f, nil
}

// auditKind keeps a kind filter only if it looks like a kind or a prefix
// of kinds ("role." or "member.add"); anything else means no filter.
func auditKind(k string) string {
	if k == "" || len(k) > 40 {
		return ""
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r == '_' || r == '.') {
			return ""
		}
	}
	return k
}

// auditChanges lays an event's before and after out field by field when
// both are JSON objects (or absent); otherwise it returns nil and the page
// shows the two texts side by side.
func auditChanges(before, after string) []views.AuditChange {
	if before == "" && after == "" {
		return nil
	}
	b, okB := jsonObject(before)
	a, okA := jsonObject(after)
	if !okB || !okA {
		return nil
	}
	keys := map[string]bool{}
	for k := range b {
		keys[k] = true
	}
	for k := range a {
		keys[k] = true
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]views.AuditChange, 0, len(names))
	for _, k := range names {
		bv, av := auditValue(b, k), auditValue(a, k)
		out = append(out, views.AuditChange{Field: strings.ReplaceAll(k, "_", " "), Before: bv, After: av, Changed: bv != av})
	}
	return out
}

func jsonObject(s string) (map[string]json.RawMessage, bool) {
	m := map[string]json.RawMessage{}
	if s == "" {
		return m, true
	}
	return m, json.Unmarshal([]byte(s), &m) == nil
}

// auditValue shows a JSON value as a person reads it: strings without
// quotes, absent values as a dash.
func auditValue(m map[string]json.RawMessage, k string) string {
	raw, ok := m[k]
	if !ok {
		return "—"
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}
