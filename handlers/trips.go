package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/perm"
	"fleetgate/views"
)

// Trips (the mileage log): the monthly log of a vehicle, the list across
// the visible vehicles, recording and changing trips, finalizing months
// and recurring trips. Who may see and change which trip is decided in
// db/trips.go, inside the queries and the writes' transactions.

const tripsPerPage = 50

// tripFilter reads a trip list's filter from the query.
func (s *Server) tripFilter(c echo.Context) views.TripsFilter {
	f := views.TripsFilter{Month: c.QueryParam("month"), Purpose: oneOf(c.QueryParam("purpose"), db.Purposes...)}
	if _, ok := db.ParseMonth(f.Month); !ok {
		f.Month = s.db.TodayFor(actor(c))[:7]
	}
	f.VehicleID, _ = strconv.ParseInt(c.QueryParam("vehicle"), 10, 64)
	f.DriverID, _ = strconv.ParseInt(c.QueryParam("driver"), 10, 64)
	f.ClientID, _ = strconv.ParseInt(c.QueryParam("client"), 10, 64)
	return f
}

// tripsQuery is the address of a list with its filter and a cursor.
func tripsURL(base string, f views.TripsFilter, month, after string) string {
	q := url.Values{"month": {month}}
	if f.VehicleID != 0 && !strings.HasPrefix(base, "/vehicles/") {
		q.Set("vehicle", strconv.FormatInt(f.VehicleID, 10))
	}
	if f.DriverID != 0 {
		q.Set("driver", strconv.FormatInt(f.DriverID, 10))
	}
	if f.ClientID != 0 {
		q.Set("client", strconv.FormatInt(f.ClientID, 10))
	}
	if f.Purpose != "" {
		q.Set("purpose", f.Purpose)
	}
	if after != "" {
		q.Set("after", after)
	}
	return base + "?" + q.Encode()
}

func shiftMonth(month string, n int) string {
	t, _ := db.ParseMonth(month)
	return t.AddDate(0, n, 0).Format("2006-01")
}

// tripsPage builds the log of one vehicle (vehicle != nil) or the list.
func (s *Server) tripsPage(c echo.Context, vehicle *db.Vehicle) error {
	ctx, a := c.Request().Context(), actor(c)
	f := s.tripFilter(c)
	if vehicle != nil {
		f.VehicleID = vehicle.ID
	}
	if db.OwnTripsOnly(a) {
		f.DriverID = 0
	}
	after := clip(c.QueryParam("after"), 40)
	rows, next, err := s.db.ListTrips(ctx, a, db.TripFilter{VehicleID: f.VehicleID, DriverID: f.DriverID, ClientID: f.ClientID,
		Purpose: f.Purpose, Month: f.Month, After: after, PerPage: tripsPerPage})
	if db.ErrorCode(err) == db.EInvalid {
		after, err = "", nil
		rows, next, err = s.db.ListTrips(ctx, a, db.TripFilter{VehicleID: f.VehicleID, DriverID: f.DriverID, ClientID: f.ClientID,
			Purpose: f.Purpose, Month: f.Month, PerPage: tripsPerPage})
	}
	if err != nil {
		return err
	}
	base := "/trips"
	if vehicle != nil {
		base = "/vehicles/" + strconv.FormatInt(vehicle.ID, 10) + "/trips"
	}
	p := views.TripsPage{
		Vehicle: vehicle, Filter: f, Rows: rows, MemberID: a.MemberID,
		PrevMonth: tripsURL(base, f, shiftMonth(f.Month, -1), ""), NextMonth: tripsURL(base, f, shiftMonth(f.Month, 1), ""),
		CanRecord: a.Can(perm.TripsRecord), CanFinalize: a.Can(perm.TripsFinalize), CanRecurring: a.Can(perm.TripsRecurring),
		OwnOnly: db.OwnTripsOnly(a), HistoryStart: s.db.HistoryStart(a),
	}
	if m, ok := db.ParseMonth(f.Month); ok && vehicle == nil && a.Can(perm.ReportsExport) {
		p.ExportURL = "/exports/trips.csv?from=" + m.Format(time.DateOnly) + "&to=" + m.AddDate(0, 1, -1).Format(time.DateOnly)
	}
	if next != "" {
		p.NextURL = tripsURL(base, f, f.Month, next)
	}
	if after != "" {
		p.FirstURL = tripsURL(base, f, f.Month, "")
	}
	if f.VehicleID != 0 {
		if p.Totals, err = s.db.MonthTotals(ctx, a, f.VehicleID, f.Month, db.TripFilter{DriverID: f.DriverID, ClientID: f.ClientID, Purpose: f.Purpose}); err != nil {
			return err
		}
	}
	if vehicle != nil {
		if p.Final, err = s.db.MonthFinal(ctx, a, vehicle.ID, f.Month); err != nil {
			return err
		}
		p.Clients, _, err = s.db.ClientsForVehicle(ctx, a, vehicle.ID, db.ClientFilter{PerPage: 200})
	} else {
		if p.Vehicles, _, err = s.db.ListVehicles(ctx, a, db.VehicleFilter{Status: "all", PerPage: 200}); err != nil {
			return err
		}
		if a.Can(perm.ClientsView) {
			p.Clients, _, err = s.db.ListClients(ctx, a, db.ClientFilter{PerPage: 200})
		}
	}
	// Drivers to filter by: members are listed to those who may list them
	// (the users list's permission); others filter by "me" only.
	if err == nil && !p.OwnOnly && a.Can(perm.UsersView) {
		p.Drivers, _, err = s.db.ListMembers(ctx, a, db.MemberFilter{PerPage: 200})
	}
	if err != nil {
		return err
	}
	title := "Trips"
	if vehicle != nil {
		title = "Mileage log of " + vehicle.Name
	}
	p.Shell = s.shell(c, title, "/trips")
	return render(c, http.StatusOK, views.Trips(p))
}

// tripsList is /trips: the trips of a month across the visible vehicles.
func (s *Server) tripsList(c echo.Context) error { return s.tripsPage(c, nil) }

// vehicleTrips is a vehicle's monthly log.
func (s *Server) vehicleTrips(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.db.Vehicle(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	return s.tripsPage(c, &v)
}

// tripForm builds the record/edit form of a trip on vehicle v.
func (s *Server) tripForm(c echo.Context, v db.Vehicle, t *db.Trip) (views.TripForm, error) {
	ctx, a := c.Request().Context(), actor(c)
	f := views.TripForm{Vehicle: v, Errors: map[string]string{}, Purpose: "business", Date: s.db.TodayFor(actor(c)), DriverID: a.MemberID}
	f.Back = "/vehicles/" + strconv.FormatInt(v.ID, 10) + "/trips?month=" + f.Date[:7]
	var err error
	if f.Clients, _, err = s.db.ClientsForVehicle(ctx, a, v.ID, db.ClientFilter{PerPage: 200}); err != nil {
		return f, err
	}
	if a.Can(perm.TripsEdit) && !db.OwnTripsOnly(a) {
		if f.Drivers, _, err = s.db.VehicleMembers(ctx, a, v.ID, 1, 200); err != nil {
			return f, err
		}
	}
	if t == nil {
		start, err := s.db.NextOdometer(ctx, a, v.ID)
		if err != nil {
			return f, err
		}
		f.OdoStart = strconv.FormatInt(start, 10)
		f.Shell = s.shell(c, "Record a trip", "/trips")
		return f, nil
	}
	fillTripForm(&f, *t)
	f.Back = "/vehicles/" + strconv.FormatInt(v.ID, 10) + "/trips?month=" + t.Date[:7]
	f.Shell = s.shell(c, "Edit a trip", "/trips")
	return f, nil
}

func fillTripForm(f *views.TripForm, t db.Trip) {
	f.ID, f.Version, f.Date, f.Purpose, f.Note = t.ID, t.Version, t.Date, t.Purpose, t.Note
	f.StartPlace, f.EndPlace, f.ClientID, f.DriverID = t.StartPlace, t.EndPlace, t.ClientID, t.DriverID
	f.OdoStart, f.OdoEnd = "", ""
	if t.HasOdo {
		f.OdoStart, f.OdoEnd = strconv.FormatInt(t.OdoStart, 10), strconv.FormatInt(t.OdoEnd, 10)
	}
	f.Distance = strconv.FormatFloat(t.DistanceKm, 'f', -1, 64)
	f.CanDelete = t.CanChange
}

// readTripForm reads a posted trip into the form (as typed) and the input.
func readTripForm(c echo.Context, f *views.TripForm, today string) db.TripInput {
	f.Date, f.OdoStart, f.OdoEnd = clip(c.FormValue("trip_date"), 20), clip(c.FormValue("odo_start"), 20), clip(c.FormValue("odo_end"), 20)
	f.Distance, f.Purpose = clip(c.FormValue("distance_km"), 20), clip(c.FormValue("purpose"), 20)
	f.StartPlace, f.EndPlace, f.Note = clip(c.FormValue("start_place"), 200), clip(c.FormValue("end_place"), 200), clip(c.FormValue("note"), 600)
	f.ClientID, _ = strconv.ParseInt(c.FormValue("client_id"), 10, 64)
	if d, err := strconv.ParseInt(c.FormValue("driver_id"), 10, 64); err == nil {
		f.DriverID = d
	}
	in := db.TripInput{Date: f.Date, DriverID: f.DriverID, ClientID: f.ClientID, StartPlace: f.StartPlace, EndPlace: f.EndPlace, Purpose: f.Purpose, Note: f.Note}
	f.Errors = map[string]string{}
	num := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, ",", ""), " ", "") }
	if v := num(f.OdoStart); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		in.OdoStart, in.HasStart = n, true
		if err != nil {
			f.Errors["odo_start"] = "Enter the odometer in whole kilometres, from 0 to 9,999,999."
		}
	}
	if v := num(f.OdoEnd); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		in.OdoEnd, in.HasEnd = n, true
		if err != nil {
			f.Errors["odo_end"] = "Enter the odometer in whole kilometres, from 0 to 9,999,999."
		}
	}
	// A start without an end is the suggested chain start: with a
	// distance instead, the trip has no odometers.
	if in.HasStart && !in.HasEnd && num(f.Distance) != "" {
		in.HasStart = false
	}
	if v := num(f.Distance); v != "" && !in.HasEnd {
		in.DistanceKm, _ = strconv.ParseFloat(v, 64)
	}
	in.Clean()
	for k, v := range in.Problems(today) {
		if _, ok := f.Errors[k]; !ok {
			f.Errors[k] = v
		}
	}
	return in
}

// tripFailure puts a refused save into the form; ok is false for errors
// the error handler answers (not found).
func tripFailure(err error, f *views.TripForm) (int, bool) {
	var ce *db.ConflictError
	if errors.As(err, &ce) {
		cur := ce.Current
		f.Current = &cur
		f.Version = cur.Version
		f.Error = ce.Err.Message
		return http.StatusConflict, true
	}
	return formFailure(err, f.Errors, &f.Error)
}

func (s *Server) tripNew(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.db.Vehicle(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	f, err := s.tripForm(c, v, nil)
	if err != nil {
		return err
	}
	if v.Level != db.Manage {
		f.Error = "You can view " + v.Name + " but not manage it, so you cannot record its trips. Ask for manage access."
		return render(c, http.StatusForbidden, views.TripFormPage(f))
	}
	return render(c, http.StatusOK, views.TripFormPage(f))
}

func (s *Server) tripCreate(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.db.Vehicle(ctx, a, id)
	if err != nil {
		return err
	}
	f, err := s.tripForm(c, v, nil)
	if err != nil {
		return err
	}
	in := readTripForm(c, &f, s.db.TodayFor(actor(c)))
	if len(f.Errors) > 0 {
		return render(c, http.StatusUnprocessableEntity, views.TripFormPage(f))
	}
	t, err := s.db.RecordTrip(ctx, a, id, in)
	if err != nil {
		if status, ok := tripFailure(err, &f); ok {
			return render(c, status, views.TripFormPage(f))
		}
		return err
	}
	s.flash(c, "ok", "Trip of "+t.Date+" recorded.")
	return c.Redirect(http.StatusSeeOther, "/vehicles/"+strconv.FormatInt(id, 10)+"/trips?month="+t.Date[:7])
}

// editableTrip loads the trip of the path and its vehicle.
func (s *Server) editableTrip(c echo.Context) (db.Trip, db.Vehicle, error) {
	ctx, a := c.Request().Context(), actor(c)
	id, err := pathID(c, "id")
	if err != nil {
		return db.Trip{}, db.Vehicle{}, err
	}
	t, err := s.db.Trip(ctx, a, id)
	if err != nil {
		return t, db.Vehicle{}, err
	}
	v, err := s.db.Vehicle(ctx, a, t.VehicleID)
	return t, v, err
}

func (s *Server) tripEdit(c echo.Context) error {
	t, v, err := s.editableTrip(c)
	if err != nil {
		return err
	}
	f, err := s.tripForm(c, v, &t)
	if err != nil {
		return err
	}
	if !t.CanChange {
		f.Error = "You can see this trip but not change it: it is another member's, its month is finalized, it is beyond your history limit, or you only view the vehicle."
	}
	return render(c, http.StatusOK, views.TripFormPage(f))
}

func (s *Server) tripUpdate(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	t, v, err := s.editableTrip(c)
	if err != nil {
		return err
	}
	f, err := s.tripForm(c, v, &t)
	if err != nil {
		return err
	}
	version, _ := strconv.Atoi(c.FormValue("version"))
	in := readTripForm(c, &f, s.db.TodayFor(actor(c)))
	f.Version = version
	if len(f.Errors) > 0 {
		return render(c, http.StatusUnprocessableEntity, views.TripFormPage(f))
	}
	saved, err := s.db.UpdateTrip(ctx, a, t.ID, version, in)
	if err != nil {
		if status, ok := tripFailure(err, &f); ok {
			return render(c, status, views.TripFormPage(f))
		}
		return err
	}
	s.flash(c, "ok", "Trip of "+saved.Date+" saved.")
	return c.Redirect(http.StatusSeeOther, "/vehicles/"+strconv.FormatInt(v.ID, 10)+"/trips?month="+saved.Date[:7])
}

func (s *Server) tripDelete(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	t, v, err := s.editableTrip(c)
	if err != nil {
		return err
	}
	version, _ := strconv.Atoi(c.FormValue("version"))
	back := "/vehicles/" + strconv.FormatInt(v.ID, 10) + "/trips?month=" + t.Date[:7]
	err = s.db.DeleteTrip(ctx, a, t.ID, version)
	var e *db.Error
	switch {
	case err == nil:
		s.flash(c, "ok", "Trip of "+t.Date+" deleted.")
	case errors.As(err, &e) && e.Code != db.ENotFound:
		s.flash(c, "error", e.Message)
	default:
		return err
	}
	return c.Redirect(http.StatusSeeOther, back)
}

func (s *Server) monthFinalize(c echo.Context) error { return s.monthFinal(c, true) }

func (s *Server) monthReopen(c echo.Context) error { return s.monthFinal(c, false) }

// monthFinal finalizes or reopens a vehicle's month and goes back to its log.
func (s *Server) monthFinal(c echo.Context, final bool) error {
	ctx, a := c.Request().Context(), actor(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	month := clip(c.FormValue("month"), 7)
	err = s.db.SetMonthFinal(ctx, a, id, month, final)
	var e *db.Error
	switch {
	case err == nil && final:
		s.flash(c, "ok", "Month "+month+" finalized: its trips are read-only.")
	case err == nil:
		s.flash(c, "ok", "Month "+month+" reopened.")
	case errors.As(err, &e) && e.Code != db.ENotFound:
		s.flash(c, "error", e.Message)
	default:
		return err
	}
	if _, ok := db.ParseMonth(month); !ok {
		month = s.db.TodayFor(actor(c))[:7]
	}
	return c.Redirect(http.StatusSeeOther, "/vehicles/"+strconv.FormatInt(id, 10)+"/trips?month="+month)
}

// recurringPage lists a vehicle's recurring trips with the new form.
func (s *Server) recurringPage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	p, err := s.recurring(c, id, views.TemplateForm{Purpose: "business", Weekdays: 31, Errors: map[string]string{}})
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Recurring(p))
}

func (s *Server) recurring(c echo.Context, vehicleID int64, form views.TemplateForm) (views.RecurringPage, error) {
	ctx, a := c.Request().Context(), actor(c)
	v, err := s.db.Vehicle(ctx, a, vehicleID)
	if err != nil {
		return views.RecurringPage{}, err
	}
	p := views.RecurringPage{Vehicle: v, Form: form, Month: c.QueryParam("month")}
	if _, ok := db.ParseMonth(p.Month); !ok {
		p.Month = s.db.TodayFor(actor(c))[:7]
	}
	if p.Templates, err = s.db.Templates(ctx, a, v.ID); err != nil {
		return p, err
	}
	if p.Clients, _, err = s.db.ClientsForVehicle(ctx, a, v.ID, db.ClientFilter{PerPage: 200}); err != nil {
		return p, err
	}
	p.Shell = s.shell(c, "Recurring trips of "+v.Name, "/trips")
	return p, nil
}

func (s *Server) recurringCreate(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	form := views.TemplateForm{Distance: clip(c.FormValue("distance_km"), 20), StartPlace: clip(c.FormValue("start_place"), 200),
		EndPlace: clip(c.FormValue("end_place"), 200), Purpose: clip(c.FormValue("purpose"), 20), Note: clip(c.FormValue("note"), 600),
		Errors: map[string]string{}}
	form.ClientID, _ = strconv.ParseInt(c.FormValue("client_id"), 10, 64)
	for _, d := range c.Request().Form["weekday"] {
		if n, err := strconv.Atoi(d); err == nil && n >= 0 && n < 7 {
			form.Weekdays |= 1 << n
		}
	}
	km, _ := strconv.ParseFloat(strings.ReplaceAll(form.Distance, ",", "."), 64)
	_, err = s.db.CreateTemplate(ctx, a, id, db.TemplateInput{Weekdays: form.Weekdays, DistanceKm: km, StartPlace: form.StartPlace,
		EndPlace: form.EndPlace, ClientID: form.ClientID, Purpose: form.Purpose, Note: form.Note})
	if err != nil {
		status, ok := formFailure(err, form.Errors, &form.Error)
		if !ok {
			return err
		}
		p, perr := s.recurring(c, id, form)
		if perr != nil {
			return perr
		}
		return render(c, status, views.Recurring(p))
	}
	s.flash(c, "ok", "Recurring trip saved. Fill a month with it below.")
	return c.Redirect(http.StatusSeeOther, "/vehicles/"+strconv.FormatInt(id, 10)+"/recurring")
}

// recurringPreview shows what filling a month with a template would add.
func (s *Server) recurringPreview(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	month := c.QueryParam("month")
	if _, ok := db.ParseMonth(month); !ok {
		month = s.db.TodayFor(actor(c))[:7]
	}
	t, days, err := s.db.FillPreview(ctx, a, id, month)
	prev := &views.FillPreview{Template: t, Month: month, Days: days}
	var e *db.Error
	if err != nil {
		if !errors.As(err, &e) || e.Code == db.ENotFound {
			return err
		}
		prev.Error = e.Message
	}
	p, err := s.recurring(c, t.VehicleID, views.TemplateForm{Purpose: "business", Weekdays: 31, Errors: map[string]string{}})
	if err != nil {
		return err
	}
	p.Month, p.Preview = month, prev
	return render(c, http.StatusOK, views.Recurring(p))
}

// recurringFill adds the template's trips to the month.
func (s *Server) recurringFill(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	month := clip(c.FormValue("month"), 7)
	t, _, err := s.db.FillPreview(ctx, a, id, month)
	if db.ErrorCode(err) == db.ENotFound {
		return err
	}
	n, err := s.db.FillMonth(ctx, a, id, month)
	var e *db.Error
	switch {
	case err == nil:
		s.flash(c, "ok", "Added "+strconv.Itoa(n)+" trips to "+month+".")
	case errors.As(err, &e) && e.Code != db.ENotFound:
		s.flash(c, "error", e.Message)
	default:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/vehicles/"+strconv.FormatInt(t.VehicleID, 10)+"/trips?month="+month)
}

func (s *Server) recurringDelete(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	t, _, err := s.db.FillPreview(ctx, a, id, s.db.TodayFor(actor(c))[:7])
	if db.ErrorCode(err) == db.ENotFound {
		return err
	}
	err = s.db.DeleteTemplate(ctx, a, id)
	var e *db.Error
	switch {
	case err == nil:
		s.flash(c, "ok", "Recurring trip removed; the trips it added stay.")
	case errors.As(err, &e) && e.Code != db.ENotFound:
		s.flash(c, "error", e.Message)
	default:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/vehicles/"+strconv.FormatInt(t.VehicleID, 10)+"/recurring")
}
