package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/field"
	"fleetgate/db/perm"
	"fleetgate/views"
)

const vehiclesPerPage = 25

// vehiclesList is the vehicle list and, for htmx, its results fragment.
// Only the vehicles in the actor's scope are listed (the db query says so).
func (s *Server) vehiclesList(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	f := views.VehiclesFilter{
		Q:      clip(c.QueryParam("q"), 100),
		Status: oneOf(c.QueryParam("status"), "active", "archived", "all"),
	}
	if f.Status == "" {
		f.Status = "active"
	}
	f.GroupID, _ = strconv.ParseInt(c.QueryParam("group"), 10, 64)
	// One page read through an index from a cursor; the count of all
	// matches only when asked for (or for "all" statuses, which is not
	// one range of the index and is read whole anyway).
	after, before := clip(c.QueryParam("after"), 200), clip(c.QueryParam("before"), 200)
	count := c.QueryParam("count") == "1" || f.Status == "all"
	rows, ks, err := s.db.VehiclesPage(ctx, a, db.VehicleFilter{Query: f.Q, GroupID: f.GroupID, Status: f.Status,
		After: after, Before: before, Page: queryInt(c, "page"), Count: count, PerPage: vehiclesPerPage})
	if err != nil {
		return err
	}
	// The filter offers the groups by name only: no vehicle is counted.
	groups, err := s.db.GroupOptions(ctx, a)
	if err != nil {
		return err
	}
	// "Your access" is what the grant and the role allow together.
	for i := range rows {
		rows[i].Level = a.EffectiveLevel(rows[i].Level)
	}
	params := url.Values{"q": {f.Q}}
	if f.Status != "active" {
		params.Set("status", f.Status)
	}
	if f.GroupID != 0 {
		params.Set("group", strconv.FormatInt(f.GroupID, 10))
	}
	pager := views.Pager{Keyset: true, Next: ks.Next, Prev: ks.Prev, Total: ks.Total, Shown: len(rows), PerPage: vehiclesPerPage,
		Base: "/vehicles", Params: params}
	back := pager.URL(1)
	switch {
	case after != "":
		back = pager.CursorURL("after", after)
	case before != "":
		back = pager.CursorURL("before", before)
	}
	p := views.VehiclesPage{
		Filter:     f,
		Groups:     groups,
		Rows:       rows,
		Pager:      pager,
		Back:       back,
		CanCreate:  a.Can(perm.VehiclesCreate),
		CanEdit:    a.Can(perm.VehiclesEdit),
		CanArchive: a.Can(perm.VehiclesArchive),
		CanExport:  a.Can(perm.ReportsExport),
	}
	p.Shell = s.shell(c, "Vehicles", "/vehicles")
	return page(c, http.StatusOK, "vehicles-results", views.VehiclesResults(p), views.Vehicles(p))
}

// vehicleForm builds the new/edit form with the groups the vehicle may go
// to: those the actor manages, plus where it is now (so that saving
// without moving it always works).
func (s *Server) vehicleForm(c echo.Context, title string, v db.Vehicle) (views.VehicleForm, error) {
	ctx, a := c.Request().Context(), actor(c)
	groups, err := s.db.ManagedGroups(ctx, a)
	if err != nil {
		return views.VehicleForm{}, err
	}
	f := views.VehicleForm{Shell: s.shell(c, title, "/vehicles"), ID: v.ID, Name: v.Name, Plate: v.Plate, VIN: v.VIN,
		GroupID: v.GroupID, Groups: groups, AllowNoGroup: a.VehicleAccess == "all", Errors: map[string]string{}}
	if v.ID != 0 {
		f.Version = v.Version
		f.Odometer = strconv.FormatInt(v.OdometerKm, 10)
		if v.GroupID == 0 {
			f.AllowNoGroup = true
		} else if !hasGroup(groups, v.GroupID) {
			f.Groups = append([]db.Group{{ID: v.GroupID, Name: v.GroupName + " (where it is now)"}}, groups...)
		}
		return f, nil
	}
	if !f.AllowNoGroup && len(groups) > 0 {
		f.GroupID = groups[0].ID
	}
	if !f.AllowNoGroup && len(groups) == 0 {
		f.Error = "You manage no group, so there is nowhere to put a new vehicle. Ask for manage access to a group."
	}
	sub, err := s.db.Subscription(ctx, a)
	if err != nil {
		return f, err
	}
	f.Free = sub.Free()
	return f, nil
}

func hasGroup(gs []db.Group, id int64) bool {
	for _, g := range gs {
		if g.ID == id {
			return true
		}
	}
	return false
}

// readVehicleForm reads the posted vehicle into the form and the input,
// with a message per field that is not acceptable.
func readVehicleForm(c echo.Context, f *views.VehicleForm) db.VehicleInput {
	f.Name, f.Plate, f.VIN = clip(c.FormValue("name"), 200), clip(c.FormValue("plate"), 100), clip(c.FormValue("vin"), 100)
	f.Odometer = clip(c.FormValue("odometer_km"), 20)
	groupID, groupErr := field.ID(c.FormValue("group_id"))
	f.GroupID = groupID
	in := db.VehicleInput{Name: f.Name, Plate: f.Plate, VIN: f.VIN, GroupID: f.GroupID}
	odo := strings.ReplaceAll(strings.ReplaceAll(f.Odometer, ",", ""), " ", "")
	var odoErr bool
	if odo != "" {
		n, err := strconv.ParseInt(odo, 10, 64)
		in.OdometerKm, odoErr = n, err != nil
	}
	in.Clean()
	f.Errors = in.Problems()
	if odoErr {
		f.Errors["odometer_km"] = "Enter the odometer in whole kilometres, from 0 to 9,999,999."
	}
	if groupErr != "" {
		f.Errors["group_id"] = "Choose one of the offered groups."
	}
	return in
}

func (s *Server) vehicleNew(c echo.Context) error {
	f, err := s.vehicleForm(c, "New vehicle", db.Vehicle{})
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.VehicleFormPage(f))
}

func (s *Server) vehicleCreate(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	f, err := s.vehicleForm(c, "New vehicle", db.Vehicle{})
	if err != nil {
		return err
	}
	f.Error = ""
	in := readVehicleForm(c, &f)
	if len(f.Errors) > 0 {
		return render(c, http.StatusUnprocessableEntity, views.VehicleFormPage(f))
	}
	id, err := s.db.CreateVehicle(ctx, a, in)
	if err != nil {
		if status, ok := formFailure(err, f.Errors, &f.Error); ok {
			return render(c, status, views.VehicleFormPage(f))
		}
		return err
	}
	s.flash(c, "ok", "Vehicle "+in.Name+" created.")
	return c.Redirect(http.StatusSeeOther, "/vehicles/"+strconv.FormatInt(id, 10))
}

// vehicleShow is one vehicle's page. Sections the actor may not open are
// not offered; their own routes check again.
func (s *Server) vehicleShow(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.db.Vehicle(ctx, a, id)
	if err != nil {
		return err
	}
	p := views.VehiclePage{
		Shell:         s.shell(c, v.Name, "/vehicles"),
		V:             v,
		CanEdit:       a.Can(perm.VehiclesEdit) && v.Level == db.Manage,
		CanArchive:    a.Can(perm.VehiclesArchive) && v.Level == db.Manage,
		CanPair:       a.Can(perm.PairingManage),
		CanSeeClients: a.Can(perm.ClientsView),
		CanSeeMembers: a.Can(perm.UsersView),
		CanSeeTrips:   a.Can(perm.TripsView),
	}
	p.V.Level = a.EffectiveLevel(v.Level) // shown: what the grant and the role allow together
	if p.Watching, err = s.db.Watching(ctx, a, id); err != nil {
		return err
	}
	if p.CanSeeClients && !p.CanPair && v.Clients > 0 {
		p.Clients, p.ClientsTotal, _, err = s.db.VehicleClients(ctx, a, id, db.ClientFilter{PairedWith: id, PerPage: 10})
		if err != nil {
			return err
		}
	}
	return render(c, http.StatusOK, views.VehicleDetail(p))
}

func (s *Server) vehicleEdit(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.db.ManagedVehicle(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	f, err := s.vehicleForm(c, "Edit "+v.Name, v)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.VehicleFormPage(f))
}

func (s *Server) vehicleUpdate(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.db.ManagedVehicle(ctx, a, id)
	if err != nil {
		return err
	}
	f, err := s.vehicleForm(c, "Edit "+v.Name, v)
	if err != nil {
		return err
	}
	in := readVehicleForm(c, &f)
	f.Version = formVersion(c.FormValue("version")) // a re-rendered form keeps the version it started from
	if len(f.Errors) > 0 {
		return render(c, http.StatusUnprocessableEntity, views.VehicleFormPage(f))
	}
	if err := s.db.UpdateVehicle(ctx, a, id, f.Version, in); err != nil {
		if db.IsStale(err) {
			return s.vehicleConflict(c, id, f, err)
		}
		if status, ok := formFailure(err, f.Errors, &f.Error); ok {
			return render(c, status, views.VehicleFormPage(f))
		}
		return err
	}
	s.flash(c, "ok", "Vehicle "+in.Name+" saved.")
	return c.Redirect(http.StatusSeeOther, "/vehicles/"+strconv.FormatInt(id, 10))
}

// vehicleConflict answers a save from an old version: the form as typed,
// the vehicle's current values beside it, and its current version.
func (s *Server) vehicleConflict(c echo.Context, id int64, typed views.VehicleForm, err error) error {
	v, verr := s.db.ManagedVehicle(c.Request().Context(), actor(c), id)
	if verr != nil {
		return verr
	}
	f, ferr := s.vehicleForm(c, "Edit "+v.Name, v)
	if ferr != nil {
		return ferr
	}
	cf := conflictOf(err)
	differs(&cf, "name", typed.Name, v.Name, v.Name)
	differs(&cf, "plate", typed.Plate, v.Plate, v.Plate)
	differs(&cf, "vin", typed.VIN, v.VIN, v.VIN)
	odo := strconv.FormatInt(v.OdometerKm, 10)
	differs(&cf, "odometer_km", typed.Odometer, odo, odo)
	group := v.GroupName
	if v.GroupID == 0 {
		group = "(no group)"
	}
	differs(&cf, "group_id", strconv.FormatInt(typed.GroupID, 10), strconv.FormatInt(v.GroupID, 10), group)
	f.Name, f.Plate, f.VIN, f.Odometer, f.GroupID = typed.Name, typed.Plate, typed.VIN, typed.Odometer, typed.GroupID
	f.Conflict = cf
	return render(c, http.StatusConflict, views.VehicleFormPage(f))
}

func (s *Server) vehicleArchive(c echo.Context) error { return s.vehicleStatus(c, false) }

func (s *Server) vehicleRestore(c echo.Context) error { return s.vehicleStatus(c, true) }

// vehicleStatus archives or restores a vehicle and goes back where the
// button was. A refusal that is not about access (the paid vehicles are
// used up) comes back as a message there.
func (s *Server) vehicleStatus(c echo.Context, restore bool) error {
	ctx, a := c.Request().Context(), actor(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	back := localPath(c.FormValue("back"), "/vehicles/"+strconv.FormatInt(id, 10), "/vehicles")
	v, err := s.db.Vehicle(ctx, a, id)
	if err != nil {
		return err
	}
	if restore {
		err = s.db.RestoreVehicle(ctx, a, id)
	} else {
		err = s.db.ArchiveVehicle(ctx, a, id)
	}
	switch {
	case db.ErrorCode(err) == db.EConflict:
		s.flash(c, "error", db.SafeMessage(err))
	case err != nil:
		return err
	case restore:
		s.flash(c, "ok", "Vehicle "+v.Name+" restored.")
	default:
		s.flash(c, "ok", "Vehicle "+v.Name+" archived.")
	}
	return c.Redirect(http.StatusSeeOther, back)
}

// localPath returns p when it is an address of this console under one of
// the prefixes, else fallback: a form's "back" never leads elsewhere.
func localPath(p, fallback string, prefixes ...string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") || len(p) > 500 {
		return fallback
	}
	for _, pre := range prefixes {
		if p == pre || strings.HasPrefix(p, pre+"/") || strings.HasPrefix(p, pre+"?") {
			return p
		}
	}
	return fallback
}

const membersPerPage = 25

// vehicleMembers answers "who can see this vehicle?" (a page, or the
// section of the vehicle's page).
func (s *Server) vehicleMembers(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.db.Vehicle(ctx, a, id)
	if err != nil {
		return err
	}
	pg := max(1, queryInt(c, "page"))
	rows, total, err := s.db.VehicleMembers(ctx, a, id, pg, membersPerPage)
	if err != nil {
		return err
	}
	p := views.VehicleMembersPage{V: v, Rows: rows,
		Pager: views.Pager{Page: pg, Pages: pages(total, membersPerPage), Total: total, PerPage: membersPerPage, Base: "/vehicles/" + strconv.FormatInt(id, 10) + "/members"}}
	if hxTarget(c) == "vehicle-members" {
		return render(c, http.StatusOK, views.VehicleMembersPart(p))
	}
	p.Shell = s.shell(c, "Who can see "+v.Name, "/vehicles")
	return render(c, http.StatusOK, views.VehicleMembers(p))
}
