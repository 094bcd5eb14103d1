package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/views"
)

// The pairing grid shows a page of vehicles against a page of clients;
// never the whole cross product.
const (
	pairVehiclesPerPage = 25
	pairClientsPerPage  = 10
	pairListPerPage     = 15
)

func (s *Server) pairingPage(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	vq, cq := clip(c.QueryParam("vq"), 100), clip(c.QueryParam("cq"), 100)
	group, _ := strconv.ParseInt(c.QueryParam("group"), 10, 64)
	// Each axis pages with its own cursors: va/vb (after/before) for the
	// vehicles, ca/cb for the clients; page and cp are the page numbers of
	// older links. A cursor that is not one is the first page. The totals
	// are counted only with count=1.
	cur := url.Values{}
	for _, k := range []string{"vq", "cq", "va", "vb", "ca", "cb"} {
		if x := clip(c.QueryParam(k), 300); x != "" {
			cur.Set(k, x)
		}
	}
	if group != 0 {
		cur.Set("group", strconv.FormatInt(group, 10))
	}
	for _, k := range []string{"page", "cp"} {
		if n := queryInt(c, k); n > 1 {
			cur.Set(k, strconv.Itoa(n))
		}
	}
	count := c.QueryParam("count") == "1"
	if count {
		cur.Set("count", "1")
	}
	grid, err := s.db.PairingGrid(ctx, a, db.PairFilter{
		Vehicles: db.VehicleFilter{Query: vq, GroupID: group, PerPage: pairVehiclesPerPage, Count: count,
			After: cur.Get("va"), Before: cur.Get("vb"), Page: queryInt(c, "page")},
		Clients: db.ClientFilter{Query: cq, PerPage: pairClientsPerPage, Count: count,
			After: cur.Get("ca"), Before: cur.Get("cb"), Page: queryInt(c, "cp")},
	})
	if err != nil {
		return err
	}
	// The group filter offers the groups by name only: no vehicle is counted.
	groups, err := s.db.GroupOptions(ctx, a)
	if err != nil {
		return err
	}
	// addr is the grid's address with one axis moved to a cursor (key
	// "va"/"vb" or "ca"/"cb"), the other axis where it stands.
	addr := func(key, cursor string) string {
		v := url.Values{}
		for k, x := range cur {
			v[k] = x
		}
		if key != "" {
			axis := []string{"va", "vb", "page"}
			if key[0] == 'c' {
				axis = []string{"ca", "cb", "cp"}
			}
			for _, k := range axis {
				v.Del(k)
			}
			v.Set(key, cursor)
		}
		if len(v) == 0 {
			return "/pairing"
		}
		return "/pairing?" + v.Encode()
	}
	p := views.PairingPage{VQ: vq, CQ: cq, GroupID: group, Groups: groups, Grid: grid, Back: addr("", "")}
	axis := func(ks db.Keyset, shown, per int, after, before string) views.AxisPager {
		ap := views.AxisPager{Range: views.Pager{Keyset: true, Next: ks.Next, Prev: ks.Prev, Total: ks.Total, Shown: shown, PerPage: per}.Range()}
		if ks.Prev != "" {
			ap.Prev = addr(before, ks.Prev)
		}
		if ks.Next != "" {
			ap.Next = addr(after, ks.Next)
		}
		return ap
	}
	p.Vehicles = axis(grid.VehicleKeys, len(grid.Vehicles), pairVehiclesPerPage, "va", "vb")
	p.Clients = axis(grid.ClientKeys, len(grid.Clients), pairClientsPerPage, "ca", "cb")
	p.Shell = s.shell(c, "Pairing", "/pairing")
	return page(c, http.StatusOK, "pairing-grid", views.PairingGrid(p), views.Pairing(p))
}

// pairingToggle sets one pairing as the checkbox says and answers, for
// htmx, the new checkbox (and the vehicle's pairing count); a browser
// without script goes back where it came from.
func (s *Server) pairingToggle(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	vehicleID, err := formID(c, "vehicle_id")
	if err != nil {
		return err
	}
	clientID, err := formID(c, "client_id")
	if err != nil {
		return err
	}
	on := c.FormValue("paired") == "1"
	v, cl, err := s.db.SetPairing(ctx, a, vehicleID, clientID, on)
	if err != nil {
		return err
	}
	back := localPath(c.FormValue("back"), "/pairing", "/pairing", "/vehicles", "/clients")
	if isHTMX(c) {
		elsewhere, _ := strconv.Atoi(c.FormValue("elsewhere"))
		elsewhere = min(max(elsewhere, 0), v.Clients)
		return render(c, http.StatusOK, views.PairToggleAnswer(views.PairCell{CSRF: csrfToken(c), Vehicle: v, Client: cl, Paired: on, CanToggle: true, Back: back,
			Elsewhere: elsewhere, Saved: true}))
	}
	if on {
		s.flash(c, "ok", fmt.Sprintf("%s paired with %s.", v.Name, cl.Name))
	} else {
		s.flash(c, "ok", fmt.Sprintf("%s no longer paired with %s.", v.Name, cl.Name))
	}
	return c.Redirect(http.StatusSeeOther, back)
}

// showPaired reads the "show" filter of a pairing list; by default the
// paired ones, or all when there are none yet.
func showPaired(c echo.Context, pairings int) bool {
	switch c.QueryParam("show") {
	case "paired":
		return true
	case "all":
		return false
	}
	return pairings > 0
}

// vehicleClients is a vehicle's pairing editor: its page, or the section
// of the vehicle's page.
func (s *Server) vehicleClients(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.db.Vehicle(ctx, a, id)
	if err != nil {
		return err
	}
	q := clip(c.QueryParam("q"), 100)
	paired := showPaired(c, v.Clients)
	pg := max(1, queryInt(c, "page"))
	f := db.ClientFilter{Query: q, Page: pg, PerPage: pairListPerPage}
	if paired {
		f.PairedWith = id
	}
	rows, total, pairs, err := s.db.VehicleClients(ctx, a, id, f)
	if err != nil {
		return err
	}
	base := "/vehicles/" + strconv.FormatInt(id, 10) + "/clients"
	params := url.Values{"q": {q}, "show": {map[bool]string{true: "paired", false: "all"}[paired]}}
	pager := views.Pager{Page: pg, Pages: pages(total, pairListPerPage), Total: total, PerPage: pairListPerPage, Base: base, Params: params}
	p := views.VehicleClientsPart{V: v, Q: q, PairedOnly: paired, Rows: rows, Paired: pairs, Pager: pager,
		Back: "/vehicles/" + strconv.FormatInt(id, 10)}
	if hxTarget(c) == "vehicle-clients" {
		p.Shell.CSRF = csrfToken(c)
		return render(c, http.StatusOK, views.VehicleClients(p))
	}
	p.Back = pager.URL(pg)
	p.Shell = s.shell(c, "Clients of "+v.Name, "/vehicles")
	return render(c, http.StatusOK, views.VehicleClientsPage(p))
}

// clientVehicles is a client's pairing editor: its page, or the section
// of the client's page. Only vehicles in the actor's scope are listed.
func (s *Server) clientVehicles(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	cl, err := s.db.Client(ctx, a, id)
	if err != nil {
		return err
	}
	q := clip(c.QueryParam("q"), 100)
	paired := showPaired(c, cl.Vehicles)
	pg := max(1, queryInt(c, "page"))
	f := db.VehicleFilter{Query: q, Status: "all", Page: pg, PerPage: pairListPerPage}
	if paired {
		f.PairedWith = id
	} else {
		f.Status = "active"
	}
	rows, total, pairs, err := s.db.ClientVehicles(ctx, a, id, f)
	if err != nil {
		return err
	}
	base := "/clients/" + strconv.FormatInt(id, 10) + "/vehicles"
	params := url.Values{"q": {q}, "show": {map[bool]string{true: "paired", false: "all"}[paired]}}
	pager := views.Pager{Page: pg, Pages: pages(total, pairListPerPage), Total: total, PerPage: pairListPerPage, Base: base, Params: params}
	p := views.ClientVehiclesPart{C: cl, Q: q, PairedOnly: paired, Rows: rows, Paired: pairs, Pager: pager,
		Back: "/clients/" + strconv.FormatInt(id, 10)}
	if hxTarget(c) == "client-vehicles" {
		p.Shell.CSRF = csrfToken(c)
		return render(c, http.StatusOK, views.ClientVehicles(p))
	}
	p.Back = pager.URL(pg)
	p.Shell = s.shell(c, "Vehicles of "+cl.Name, "/clients")
	return render(c, http.StatusOK, views.ClientVehiclesPage(p))
}
