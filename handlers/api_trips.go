package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
)

// The trips of the mobile channel: the same queries and rules as the
// console's pages, answered as JSON.

type apiTrip struct {
	ID         int64   `json:"id"`
	VehicleID  int64   `json:"vehicle_id"`
	Vehicle    string  `json:"vehicle"`
	DriverID   int64   `json:"driver_id"`
	Driver     string  `json:"driver"`
	ClientID   int64   `json:"client_id,omitempty"`
	Client     string  `json:"client,omitempty"`
	Date       string  `json:"date"`
	OdoStart   *int64  `json:"odo_start"`
	OdoEnd     *int64  `json:"odo_end"`
	DistanceKm float64 `json:"distance_km"`
	StartPlace string  `json:"start_place"`
	EndPlace   string  `json:"end_place"`
	Purpose    string  `json:"purpose"`
	Note       string  `json:"note"`
	Version    int     `json:"version"`
	Finalized  bool    `json:"finalized"`
	CanChange  bool    `json:"can_change"`
}

func toAPITrip(t db.Trip) apiTrip {
	out := apiTrip{ID: t.ID, VehicleID: t.VehicleID, Vehicle: t.VehicleName, DriverID: t.DriverID, Driver: t.DriverName,
		ClientID: t.ClientID, Client: t.ClientName, Date: t.Date, DistanceKm: t.DistanceKm, StartPlace: t.StartPlace,
		EndPlace: t.EndPlace, Purpose: t.Purpose, Note: t.Note, Version: t.Version, Finalized: t.Final, CanChange: t.CanChange}
	if t.HasOdo {
		s, e := t.OdoStart, t.OdoEnd
		out.OdoStart, out.OdoEnd = &s, &e
	}
	return out
}

// apiTripBody is a trip as the API takes it.
type apiTripBody struct {
	VehicleID  int64    `json:"vehicle_id"`
	Date       string   `json:"date"`
	DriverID   int64    `json:"driver_id"`
	ClientID   int64    `json:"client_id"`
	OdoStart   *int64   `json:"odo_start"`
	OdoEnd     *int64   `json:"odo_end"`
	DistanceKm *float64 `json:"distance_km"`
	StartPlace string   `json:"start_place"`
	EndPlace   string   `json:"end_place"`
	Purpose    string   `json:"purpose"`
	Note       string   `json:"note"`
	Version    int      `json:"version"`
}

func (b apiTripBody) input() db.TripInput {
	in := db.TripInput{Date: b.Date, DriverID: b.DriverID, ClientID: b.ClientID, StartPlace: b.StartPlace, EndPlace: b.EndPlace,
		Purpose: b.Purpose, Note: b.Note}
	if b.OdoStart != nil {
		in.OdoStart, in.HasStart = *b.OdoStart, true
	}
	if b.OdoEnd != nil {
		in.OdoEnd, in.HasEnd = *b.OdoEnd, true
	}
	if b.DistanceKm != nil {
		in.DistanceKm = *b.DistanceKm
	}
	return in
}

// fieldProblem answers a bad input as problem+json naming the fields.
func fieldProblem(c echo.Context, status int, detail string, fields map[string]string) error {
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	title := "Invalid input"
	switch status {
	case http.StatusConflict:
		title = "Conflict"
	case http.StatusForbidden:
		title = "Not allowed"
	}
	return c.JSON(status, map[string]any{"type": "about:blank", "title": title, "status": status, "detail": detail, "errors": fields})
}

// apiTripError answers a refused trip change: field errors name their
// field; a stale version carries the trip as it is now.
func apiTripError(c echo.Context, err error) error {
	var ce *db.ConflictError
	if errors.As(err, &ce) {
		c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
		return c.JSON(http.StatusConflict, map[string]any{"type": "about:blank", "title": "Conflict", "status": http.StatusConflict,
			"detail": ce.Err.Message, "current": toAPITrip(ce.Current)})
	}
	var e *db.Error
	if errors.As(err, &e) && e.Field != "" {
		status := http.StatusUnprocessableEntity
		switch e.Code {
		case db.EConflict:
			status = http.StatusConflict
		case db.EForbidden:
			status = http.StatusForbidden
		}
		return fieldProblem(c, status, e.Message, map[string]string{e.Field: e.Message})
	}
	return err
}

func decodeTrip(c echo.Context) (apiTripBody, []byte, error) {
	var b apiTripBody
	raw, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, 16<<10))
	if err != nil {
		return b, nil, problem(c, http.StatusBadRequest, "Bad request", "The body must be a JSON object of at most 16 KB.")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return b, nil, problem(c, http.StatusBadRequest, "Bad request", "The body must be a JSON trip object (see /api/v1/openapi.json).")
	}
	return b, raw, nil
}

// apiTrips lists one page of the trips of a month across the member's
// visible vehicles (or one vehicle), with the month's totals per purpose
// when a vehicle is chosen. Pages follow "next" (a cursor).
func (s *Server) apiTrips(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	f := s.tripFilter(c)
	if c.QueryParam("month") != "" {
		if _, ok := db.ParseMonth(c.QueryParam("month")); !ok {
			return fieldProblem(c, http.StatusUnprocessableEntity, "Give the month as YYYY-MM.", map[string]string{"month": "Give the month as YYYY-MM."})
		}
	}
	per := 50
	if n := queryInt(c, "per_page"); n > 0 {
		per = min(n, 200)
	}
	rows, next, err := s.db.ListTrips(ctx, a, db.TripFilter{VehicleID: f.VehicleID, DriverID: f.DriverID, ClientID: f.ClientID,
		Purpose: f.Purpose, Month: f.Month, After: clip(c.QueryParam("after"), 40), PerPage: per})
	if err != nil {
		return apiTripError(c, err)
	}
	out := make([]apiTrip, 0, len(rows))
	for _, t := range rows {
		out = append(out, toAPITrip(t))
	}
	res := map[string]any{"trips": out, "month": f.Month, "next": next}
	if f.VehicleID != 0 {
		totals, err := s.db.MonthTotals(ctx, a, f.VehicleID, f.Month, db.TripFilter{DriverID: f.DriverID, ClientID: f.ClientID, Purpose: f.Purpose})
		if err != nil {
			return err
		}
		tm := map[string]any{}
		for _, t := range totals {
			tm[t.Purpose] = map[string]any{"trips": t.Trips, "km": t.Km}
		}
		res["totals"] = tm
	}
	return c.JSON(http.StatusOK, res)
}

func (s *Server) apiTrip(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	t, err := s.db.Trip(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAPITrip(t))
}

// apiTripCreate records a trip. With an Idempotency-Key header, a retry
// of the same request answers the trip recorded the first time (200
// instead of 201) and records nothing more.
func (s *Server) apiTripCreate(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	b, raw, err := decodeTrip(c)
	if err != nil || raw == nil {
		return err
	}
	if b.VehicleID <= 0 {
		return fieldProblem(c, http.StatusUnprocessableEntity, "Choose a vehicle.", map[string]string{"vehicle_id": "Choose a vehicle."})
	}
	in := b.input()
	in.Clean()
	if p := in.Problems(s.db.TodayFor(actor(c))); len(p) > 0 {
		return fieldProblem(c, http.StatusUnprocessableEntity, "Some fields are not acceptable.", p)
	}
	key := c.Request().Header.Get("Idempotency-Key")
	if len(key) > 200 {
		return fieldProblem(c, http.StatusUnprocessableEntity, "The Idempotency-Key has at most 200 characters.", map[string]string{"Idempotency-Key": "At most 200 characters."})
	}
	var t db.Trip
	replay := false
	if key == "" {
		t, err = s.db.RecordTrip(ctx, a, b.VehicleID, in)
	} else {
		sum := sha256.Sum256(raw)
		t, replay, err = s.db.RecordTripOnce(ctx, a, key, hex.EncodeToString(sum[:]), b.VehicleID, in)
	}
	if err != nil {
		return apiTripError(c, err)
	}
	status := http.StatusCreated
	if replay {
		status = http.StatusOK
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/trips/"+strconv.FormatInt(t.ID, 10))
	return c.JSON(status, toAPITrip(t))
}

// apiTripUpdate changes a trip; the body's version must be the current one.
func (s *Server) apiTripUpdate(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	b, raw, err := decodeTrip(c)
	if err != nil || raw == nil {
		return err
	}
	if b.Version <= 0 {
		return fieldProblem(c, http.StatusUnprocessableEntity, "Send the version of the trip you changed.", map[string]string{"version": "Required: the trip's current version."})
	}
	in := b.input()
	in.Clean()
	if p := in.Problems(s.db.TodayFor(actor(c))); len(p) > 0 {
		return fieldProblem(c, http.StatusUnprocessableEntity, "Some fields are not acceptable.", p)
	}
	t, err := s.db.UpdateTrip(c.Request().Context(), actor(c), id, b.Version, in)
	if err != nil {
		return apiTripError(c, err)
	}
	return c.JSON(http.StatusOK, toAPITrip(t))
}

// apiTripDelete deletes a trip; ?version= must be the current one.
func (s *Server) apiTripDelete(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	version, _ := strconv.Atoi(c.QueryParam("version"))
	if version <= 0 {
		return fieldProblem(c, http.StatusUnprocessableEntity, "Send ?version= with the trip's current version.", map[string]string{"version": "Required: the trip's current version."})
	}
	if err := s.db.DeleteTrip(c.Request().Context(), actor(c), id, version); err != nil {
		return apiTripError(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}
