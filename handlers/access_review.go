package handlers

import (
	"encoding/csv"
	"errors"
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

// The access review (/access-review): the overview of who holds what with
// its findings and one-click fixes, the recorded reviews, and the role
// comparison. Every fix calls the ordinary db write, which checks reach
// and no escalation in its own transaction and audits.

const reviewPerPage = 50

// measured lists the permissions the route table checks by name: only
// their use is recorded, so only they can be "unused".
func (s *Server) measured() []perm.Key {
	seen := map[perm.Key]bool{}
	for _, r := range s.table {
		switch r.Need.kind {
		case needPerm:
			seen[r.Need.perm] = true
		case needEither, needBoth:
			seen[r.Need.perm], seen[r.Need.alt] = true, true
		}
	}
	out := make([]perm.Key, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (s *Server) accessReviewData(c echo.Context) (views.AccessReviewPage, error) {
	a := actor(c)
	ctx := c.Request().Context()
	p := views.AccessReviewPage{Finding: db.ParseFinding(c.QueryParam("finding")), CanSettings: a.Can(perm.AccountSettings),
		CanCompare: a.Can(perm.RolesView)}
	measured := s.measured()
	var err error
	if p.O, err = s.db.AccessOverview(ctx, a, measured); err != nil {
		return p, err
	}
	p.Settings = p.O.Settings
	pg := max(1, queryInt(c, "page"))
	var total int
	if p.Members, total, err = s.db.ReviewMembers(ctx, a, measured, db.ReviewFilter{Finding: p.Finding, Page: pg, PerPage: reviewPerPage}); err != nil {
		return p, err
	}
	params := url.Values{}
	if p.Finding != "" {
		params.Set("finding", string(p.Finding))
	}
	p.Pager = views.Pager{Page: pg, Pages: pages(total, reviewPerPage), Total: total, PerPage: reviewPerPage, Base: "/access-review", Params: params}
	p.Back = p.Pager.URL(pg)
	roles, err := s.db.ReachableRoles(ctx, a)
	if err != nil {
		return p, err
	}
	p.CanAct = map[int64]bool{}
	for _, m := range p.Members {
		p.CanAct[m.ID] = a.Can(perm.UsersManage) && !m.IsOwner && m.ID != a.MemberID && roles[m.RoleID]
	}
	if p.OpenReview, err = s.db.OpenReviewOf(ctx, a); err != nil {
		return p, err
	}
	p.Due = p.O.Settings.NextReviewOn != "" && p.O.Settings.NextReviewOn <= s.db.Now().In(a.Location()).Format(time.DateOnly)
	return p, nil
}

func (s *Server) accessReview(c echo.Context) error {
	p, err := s.accessReviewData(c)
	if err != nil {
		return err
	}
	p.Shell = s.shell(c, "Access review", "/access-review")
	p.Shell.CSRF = csrfToken(c)
	return render(c, http.StatusOK, views.AccessReview(p))
}

// reviewBack is where a fix returns: the overview page it came from.
func reviewBack(c echo.Context) string {
	b := c.FormValue("back")
	if b == "/access-review" || strings.HasPrefix(b, "/access-review?") {
		return b
	}
	return "/access-review"
}

// accessReviewFix applies one fix of the overview through its ordinary
// write. A refusal (reach, no escalation, something to settle first) is
// answered with its message and status; nothing is changed then.
func (s *Server) accessReviewFix(c echo.Context) error {
	a := actor(c)
	ctx := c.Request().Context()
	member, _ := strconv.ParseInt(c.FormValue("member"), 10, 64)
	var err error
	var msg string
	switch c.FormValue("fix") {
	case "deactivate":
		err = s.db.SetStatus(ctx, a, member, "deactivated", db.Handover{RefuseLeftovers: true})
		msg = "Member deactivated: their sessions and API tokens ended."
		var e *db.Error
		if errors.As(err, &e) && e.Field == "handover" {
			err = db.Errorf(db.EInvalid, "This member %s", e.Message)
		}
	case "selected":
		err = s.db.SetAccessMode(ctx, a, member, "selected")
		msg = "Access limited to selected groups and vehicles (their grants stay)."
	case "narrow":
		var n int
		n, err = s.db.NarrowToView(ctx, a, member)
		msg = strconv.Itoa(n) + " manage grant(s) made view-only."
	case "revoke-grant":
		target, _ := strconv.ParseInt(c.FormValue("target"), 10, 64)
		err = s.db.Revoke(ctx, a, member, c.FormValue("kind"), target)
		msg = "Grant removed."
	case "revoke-token":
		token, _ := strconv.ParseInt(c.FormValue("token"), 10, 64)
		err = s.db.RevokeMemberToken(ctx, a, member, token)
		msg = "API token revoked."
	case "revoke-invitation":
		inv, _ := strconv.ParseInt(c.FormValue("invitation"), 10, 64)
		_, err = s.db.RevokeInvitation(ctx, a, inv)
		msg = "Invitation revoked: its link no longer works."
	default:
		return db.FieldError("fix", "Choose one of the offered fixes.")
	}
	if err != nil {
		return err
	}
	s.flash(c, "ok", msg)
	return c.Redirect(http.StatusSeeOther, reviewBack(c))
}

// accessReviewSettings saves the review settings from the overview.
func (s *Server) accessReviewSettings(c echo.Context) error {
	in := db.ReviewSettings{}
	in.StaleDays, _ = strconv.Atoi(strings.TrimSpace(c.FormValue("stale_days")))
	in.EveryDays, _ = strconv.Atoi(strings.TrimSpace(c.FormValue("every_days")))
	in.Version, _ = strconv.Atoi(c.FormValue("version"))
	cur, err := s.db.SaveAccessReviewSettings(c.Request().Context(), actor(c), in)
	if err == nil {
		s.flash(c, "ok", "Review settings saved.")
		return c.Redirect(http.StatusSeeOther, "/access-review")
	}
	var e *db.Error
	if !errors.As(err, &e) || e.Code == db.ENotFound || e.Code == db.EForbidden {
		return err
	}
	p, perr := s.accessReviewData(c)
	if perr != nil {
		return perr
	}
	p.Errors = map[string]string{e.Field: e.Message}
	p.Settings = in
	if e.Code == db.EConflict {
		p.Settings = cur
	}
	p.Shell = s.shell(c, "Access review", "/access-review")
	p.Shell.CSRF = csrfToken(c)
	return render(c, Status(e.Code), views.AccessReview(p))
}

// reviewStart starts the actor's review, or resumes the one they left.
func (s *Server) reviewStart(c echo.Context) error {
	id, resumed, err := s.db.StartReview(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	if resumed {
		s.flash(c, "ok", "Your review in progress is resumed where you left it.")
	}
	return c.Redirect(http.StatusSeeOther, "/access-review/reviews/"+strconv.FormatInt(id, 10))
}

func (s *Server) reviewsList(c echo.Context) error {
	pg := max(1, queryInt(c, "page"))
	list, total, err := s.db.Reviews(c.Request().Context(), actor(c), pg, 25)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Reviews(views.ReviewsPage{Shell: s.shell(c, "Access reviews", "/access-review"), Reviews: list,
		Pager: views.Pager{Page: pg, Pages: pages(total, 25), Total: total, PerPage: 25, Base: "/access-review/reviews"}}))
}

func (s *Server) reviewPage(c echo.Context, id int64, pg int, status int, errMsg string, errOf int64) error {
	a := actor(c)
	ctx := c.Request().Context()
	r, err := s.db.ReviewByID(ctx, a, id)
	if err != nil {
		return err
	}
	pg = max(1, pg)
	items, total, err := s.db.ReviewItems(ctx, a, id, pg, reviewPerPage)
	if err != nil {
		return err
	}
	base := "/access-review/reviews/" + strconv.FormatInt(id, 10)
	p := views.ReviewPage{Shell: s.shell(c, "Access review", "/access-review"), R: r, Items: items,
		Pager: views.Pager{Page: pg, Pages: pages(total, reviewPerPage), Total: total, PerPage: reviewPerPage, Base: base},
		Mine:  !r.Finished() && r.ReviewerID == a.MemberID, Error: errMsg, ErrorOf: errOf}
	p.Shell.CSRF = csrfToken(c)
	return render(c, status, views.ReviewShow(p))
}

func (s *Server) reviewShow(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	return s.reviewPage(c, id, queryInt(c, "page"), http.StatusOK, "", 0)
}

// reviewDecide records one decision; "change" then opens the member's editor.
func (s *Server) reviewDecide(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	member, _ := strconv.ParseInt(c.FormValue("member"), 10, 64)
	decision := c.FormValue("decision")
	pg, _ := strconv.Atoi(c.FormValue("page"))
	err = s.db.Decide(c.Request().Context(), actor(c), id, member, decision)
	if err != nil {
		var e *db.Error
		if !errors.As(err, &e) || e.Code == db.ENotFound {
			return err
		}
		msg := e.Message
		if e.Field == "handover" {
			msg = "This member " + e.Message + "."
		}
		return s.reviewPage(c, id, pg, Status(e.Code), msg, member)
	}
	if decision == db.DecisionChange {
		s.flash(c, "ok", "Marked “change”: edit the member's role or access here, then go back to the review.")
		return c.Redirect(http.StatusSeeOther, "/users/"+strconv.FormatInt(member, 10))
	}
	to := "/access-review/reviews/" + strconv.FormatInt(id, 10)
	if pg > 1 {
		to += "?page=" + strconv.Itoa(pg)
	}
	return c.Redirect(http.StatusSeeOther, to)
}

func (s *Server) reviewFinish(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	r, err := s.db.FinishReview(c.Request().Context(), actor(c), id)
	if err != nil {
		var e *db.Error
		if !errors.As(err, &e) || e.Code == db.ENotFound {
			return err
		}
		return s.reviewPage(c, id, 1, Status(e.Code), e.Message, 0)
	}
	st, err := s.db.AccessReviewSettings(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	s.flash(c, "ok", "Review finished and on record: "+strconv.Itoa(r.Kept)+" kept, "+strconv.Itoa(r.Changed)+" changed, "+
		strconv.Itoa(r.Revoked)+" revoked. The next review is due on "+st.NextReviewOn+".")
	return c.Redirect(http.StatusSeeOther, "/access-review/reviews/"+strconv.FormatInt(id, 10))
}

// reviewCSV exports a review: who reviewed whom, with each decision.
// Cells are neutralised for spreadsheets (csvSafe).
func (s *Server) reviewCSV(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	a := actor(c)
	ctx := c.Request().Context()
	r, err := s.db.ReviewByID(ctx, a, id)
	if err != nil {
		return err
	}
	stamp := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="access-review-`+strconv.FormatInt(id, 10)+`.csv"`)
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	_ = w.Write([]string{"review", "reviewer", "started_at", "finished_at", "member_id", "name", "email", "role", "vehicles", "decision", "decided_at"})
	const per = 1000
	for pg := 1; ; pg++ {
		items, _, err := s.db.ReviewItems(ctx, a, id, pg, per)
		if err != nil {
			return err
		}
		for _, it := range items {
			_ = w.Write(csvSafe(strconv.FormatInt(r.ID, 10), r.ReviewerName, stamp(&r.StartedAt), stamp(r.FinishedAt),
				strconv.FormatInt(it.MemberID, 10), it.Name, it.Email, it.RoleName, it.Access, it.Decision, stamp(it.DecidedAt)))
		}
		w.Flush()
		if len(items) < per {
			return w.Error()
		}
	}
}

// roleCompare shows two roles side by side: what a member gains and loses
// going from the first to the second.
func (s *Server) roleCompare(c echo.Context) error {
	a := actor(c)
	ctx := c.Request().Context()
	roles, err := s.db.RoleOptions(ctx, a)
	if err != nil {
		return err
	}
	p := views.RoleComparePage{Shell: s.shell(c, "Compare roles", "/roles"), Roles: roles}
	ida, _ := strconv.ParseInt(c.QueryParam("a"), 10, 64)
	idb, _ := strconv.ParseInt(c.QueryParam("b"), 10, 64)
	for _, r := range roles {
		if r.ID == ida {
			p.A = r
		}
		if r.ID == idb {
			p.B = r
		}
	}
	if (ida != 0 && p.A.ID == 0) || (idb != 0 && p.B.ID == 0) {
		return db.Errorf(db.ENotFound, "Role not found.")
	}
	if p.A.ID != 0 && p.B.ID != 0 {
		if p.SetA, _, err = s.db.RoleSet(ctx, a, p.A.ID); err != nil {
			return err
		}
		if p.SetB, _, err = s.db.RoleSet(ctx, a, p.B.ID); err != nil {
			return err
		}
		p.Gain, p.Lose = perm.Diff(p.SetA, p.SetB)
		p.Chosen = true
	}
	return render(c, http.StatusOK, views.RoleCompare(p))
}

// whatIf previews, on the member page and in the access editor, what
// giving a role (role_id) or a group (kind=group, target_id, level) would
// change for the member. It only reads.
func (s *Server) whatIf(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	a := actor(c)
	ctx := c.Request().Context()
	var w db.WhatIf
	what := ""
	if c.QueryParam("kind") == "group" {
		g, err := strconv.ParseInt(c.QueryParam("target_id"), 10, 64)
		if err != nil {
			return db.FieldError("target_id", "Choose a group.")
		}
		lvl, ok := db.ParseLevel(c.QueryParam("level"))
		if !ok {
			lvl = db.View
		}
		if w, err = s.db.WhatIfGroup(ctx, a, id, g, lvl); err != nil {
			return err
		}
		what = "This group (" + lvl.String() + ")"
	} else {
		r, err := strconv.ParseInt(c.QueryParam("role_id"), 10, 64)
		if err != nil {
			return db.FieldError("role_id", "Choose a role.")
		}
		if w, err = s.db.WhatIfRole(ctx, a, id, r); err != nil {
			return err
		}
		what = "This role"
	}
	return render(c, http.StatusOK, views.WhatIfPreview(w, what))
}
