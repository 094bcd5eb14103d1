package handlers

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/views"
)

const auditPerPage = 50

// auditLog is the audit log page and, for htmx, its results fragment:
// who did what to whom and when, filterable by person and kind of change.
func (s *Server) auditLog(c echo.Context) error {
	ctx := c.Request().Context()
	a := actor(c)
	people, err := s.db.AccountPeople(ctx, a)
	if err != nil {
		return err
	}
	p := views.AuditPage{People: people, Kind: auditKind(c.QueryParam("kind"))}
	if id, err := strconv.ParseInt(c.QueryParam("person"), 10, 64); err == nil {
		for _, m := range people {
			if m.ID == id {
				p.ActorID = id
			}
		}
	}
	p.From, p.To = auditDay(c.QueryParam("from")), auditDay(c.QueryParam("to"))
	if c.Path() == "/audit/export.csv" {
		return s.auditCSV(c, db.AuditFilter{ActorID: p.ActorID, Kind: p.Kind, From: p.From, To: p.To})
	}
	pg := max(1, queryInt(c, "page"))
	entries, total, err := s.db.AuditLog(ctx, a, db.AuditFilter{ActorID: p.ActorID, Kind: p.Kind, From: p.From, To: p.To, Page: pg, PerPage: auditPerPage})
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
	p.Pager = views.Pager{Page: pg, Pages: pages(total, auditPerPage), Total: total, PerPage: auditPerPage, Base: "/audit", Params: params}
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

// auditCSV exports the events matching the filter, newest first, a page
// at a time, with the same columns as the page.
func (s *Server) auditCSV(c echo.Context, f db.AuditFilter) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="audit-log.csv"`)
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	_ = w.Write([]string{"when_utc", "summary", "who", "to_whom", "kind", "before", "after"})
	f.PerPage = 500
	for f.Page = 1; f.Page <= 1000; f.Page++ {
		entries, total, err := s.db.AuditLog(c.Request().Context(), actor(c), f)
		if err != nil {
			return err
		}
		for _, e := range entries {
			_ = w.Write(csvSafe(e.At.UTC().Format(time.RFC3339), e.Summary, e.ActorName, e.Target, e.Kind, e.Before, e.After))
		}
		if f.Page*f.PerPage >= total {
			break
		}
	}
	w.Flush()
	return w.Error()
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
