package handlers

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/perm"
	"fleetgate/views"
)

const clientsPerPage = 25

// clientsList is the client list: every client for members with
// clients.manage, else the clients usable with their vehicles (the client-usability rule).
func (s *Server) clientsList(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	q := clip(c.QueryParam("q"), 100)
	pg := max(1, queryInt(c, "page"))
	rows, total, err := s.db.ListClients(ctx, a, db.ClientFilter{Query: q, Page: pg, PerPage: clientsPerPage})
	if err != nil {
		return err
	}
	p := views.ClientsPage{Q: q, Rows: rows, CanManage: a.Can(perm.ClientsManage), CanExport: a.Can(perm.ReportsExport),
		Pager: views.Pager{Page: pg, Pages: pages(total, clientsPerPage), Total: total, PerPage: clientsPerPage, Base: "/clients", Params: url.Values{"q": {q}}}}
	p.Shell = s.shell(c, "Clients", "/clients")
	return page(c, http.StatusOK, "clients-results", views.ClientsResults(p), views.Clients(p))
}

func readClientForm(c echo.Context, f *views.ClientForm) db.ClientInput {
	f.Name, f.Email = clip(c.FormValue("name"), 300), clip(c.FormValue("email"), 300)
	f.Phone, f.Address = clip(c.FormValue("phone"), 100), clip(c.FormValue("address"), 400)
	in := db.ClientInput{Name: f.Name, Email: f.Email, Phone: f.Phone, Address: f.Address}
	in.Clean()
	f.Errors = in.Problems()
	return in
}

func (s *Server) clientNew(c echo.Context) error {
	return render(c, http.StatusOK, views.ClientFormPage(views.ClientForm{Shell: s.shell(c, "New client", "/clients")}))
}

func (s *Server) clientCreate(c echo.Context) error {
	f := views.ClientForm{Shell: s.shell(c, "New client", "/clients")}
	in := readClientForm(c, &f)
	if len(f.Errors) > 0 {
		return render(c, http.StatusUnprocessableEntity, views.ClientFormPage(f))
	}
	id, err := s.db.CreateClient(c.Request().Context(), actor(c), in)
	if err != nil {
		if status, ok := formFieldFailure(err, f.Errors); ok {
			return render(c, status, views.ClientFormPage(f))
		}
		return err
	}
	s.flash(c, "ok", "Client "+in.Name+" created.")
	return c.Redirect(http.StatusSeeOther, "/clients/"+strconv.FormatInt(id, 10))
}

func (s *Server) clientShow(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	cl, err := s.db.Client(ctx, a, id)
	if err != nil {
		return err
	}
	p := views.ClientPage{Shell: s.shell(c, cl.Name, "/clients"), C: cl, CanManage: a.Can(perm.ClientsManage),
		CanPair: a.Can(perm.PairingManage), CanSeeVehicles: a.Can(perm.VehiclesView)}
	if p.CanSeeVehicles && !p.CanPair && cl.Vehicles > 0 {
		if p.Vehicles, _, err = s.db.ListVehicles(ctx, a, db.VehicleFilter{PairedWith: id, Status: "all", PerPage: 10}); err != nil {
			return err
		}
	}
	return render(c, http.StatusOK, views.ClientDetail(p))
}

func (s *Server) clientEdit(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	cl, err := s.db.Client(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ClientFormPage(views.ClientForm{Shell: s.shell(c, "Edit "+cl.Name, "/clients"),
		ID: id, Name: cl.Name, Email: cl.Email, Phone: cl.Phone, Address: cl.Address, Version: cl.Version}))
}

func (s *Server) clientUpdate(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	cl, err := s.db.Client(ctx, a, id)
	if err != nil {
		return err
	}
	// A re-rendered form keeps the version it started from.
	f := views.ClientForm{Shell: s.shell(c, "Edit "+cl.Name, "/clients"), ID: id, Version: formVersion(c.FormValue("version"))}
	in := readClientForm(c, &f)
	if len(f.Errors) > 0 {
		return render(c, http.StatusUnprocessableEntity, views.ClientFormPage(f))
	}
	if err := s.db.UpdateClient(ctx, a, id, f.Version, in); err != nil {
		if db.IsStale(err) {
			return s.clientConflict(c, id, f, err)
		}
		if status, ok := formFieldFailure(err, f.Errors); ok {
			return render(c, status, views.ClientFormPage(f))
		}
		return err
	}
	s.flash(c, "ok", "Client "+in.Name+" saved.")
	return c.Redirect(http.StatusSeeOther, "/clients/"+strconv.FormatInt(id, 10))
}

// clientConflict answers a save from an old version: the form as typed,
// the client's current values beside it, and its current version.
func (s *Server) clientConflict(c echo.Context, id int64, f views.ClientForm, err error) error {
	cl, cerr := s.db.Client(c.Request().Context(), actor(c), id)
	if cerr != nil {
		return cerr
	}
	cf := conflictOf(err)
	differs(&cf, "name", f.Name, cl.Name, cl.Name)
	differs(&cf, "email", f.Email, cl.Email, cl.Email)
	differs(&cf, "phone", f.Phone, cl.Phone, cl.Phone)
	differs(&cf, "address", f.Address, cl.Address, cl.Address)
	f.Version, f.Conflict = cl.Version, cf
	return render(c, http.StatusConflict, views.ClientFormPage(f))
}

// clientDelete deletes a client; while trips refer to it, the refusal
// comes back as a message on the client's page.
func (s *Server) clientDelete(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	cl, err := s.db.Client(ctx, a, id)
	if err != nil {
		return err
	}
	err = s.db.DeleteClient(ctx, a, id)
	if db.ErrorCode(err) == db.EConflict {
		s.flash(c, "error", db.SafeMessage(err))
		return c.Redirect(http.StatusSeeOther, "/clients/"+strconv.FormatInt(id, 10))
	}
	if err != nil {
		return err
	}
	s.flash(c, "ok", "Client "+cl.Name+" deleted.")
	return c.Redirect(http.StatusSeeOther, "/clients")
}
