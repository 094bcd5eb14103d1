package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
)

// Vehicles, groups, clients and pairings through the API: the console's
// db methods (scope, reach, versions and audit inside their transactions)
// and the console's input rules, answered as JSON.

// vehicleBody is a vehicle as the API takes it (create and update alike).
type vehicleBody struct {
	Name       string `json:"name"`
	Plate      string `json:"plate"`
	VIN        string `json:"vin"`
	GroupID    int64  `json:"group_id"`
	OdometerKm int64  `json:"odometer_km"`
}

// input is the body as the vehicle form's input, with the form's messages.
func (b vehicleBody) input() (db.VehicleInput, map[string]string) {
	in := db.VehicleInput{Name: b.Name, Plate: b.Plate, VIN: b.VIN, GroupID: b.GroupID, OdometerKm: b.OdometerKm}
	in.Clean()
	errs := in.Problems()
	if b.GroupID < 0 {
		errs["group_id"] = "Choose one of the offered groups."
	}
	return in, errs
}

var vehicleFields = []string{"name", "plate", "vin", "group_id", "odometer_km"}

// answerVehicle answers a vehicle as it is now, with its version as ETag.
func (s *Server) answerVehicle(c echo.Context, status int, id int64) error {
	v, err := s.db.Vehicle(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	setETag(c, v.Version)
	if status == http.StatusCreated {
		c.Response().Header().Set(echo.HeaderLocation, "/api/v1/vehicles/"+strconv.FormatInt(id, 10))
	}
	return c.JSON(status, toAPIVehicle(v))
}

func (s *Server) currentVehicle(c echo.Context, id int64) func() (int, any, error) {
	return func() (int, any, error) {
		v, err := s.db.Vehicle(c.Request().Context(), actor(c), id)
		return v.Version, toAPIVehicle(v), err
	}
}

func (s *Server) apiVehicleCreate(c echo.Context) error {
	var b vehicleBody
	if err := readJSON(c, &b); err != nil || answered(c) {
		return err
	}
	in, errs := b.input()
	if len(errs) > 0 {
		return invalidFields(c, errs, vehicleFields...)
	}
	id, err := s.db.CreateVehicle(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return s.answerVehicle(c, http.StatusCreated, id)
}

func (s *Server) apiVehicleUpdate(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	version, ok, err := ifMatch(c)
	if !ok {
		return err
	}
	var b vehicleBody
	if err := readJSON(c, &b); err != nil || answered(c) {
		return err
	}
	in, errs := b.input()
	if len(errs) > 0 {
		return invalidFields(c, errs, vehicleFields...)
	}
	if err := s.db.UpdateVehicle(c.Request().Context(), actor(c), id, version, in); err != nil {
		return refused(c, err, version, s.currentVehicle(c, id))
	}
	return s.answerVehicle(c, http.StatusOK, id)
}

// apiVehicleArchive archives a vehicle (DELETE): it stays listed under
// status=archived and frees a paid place; restore brings it back.
func (s *Server) apiVehicleArchive(c echo.Context) error { return s.apiVehicleStatus(c, false) }

func (s *Server) apiVehicleRestore(c echo.Context) error { return s.apiVehicleStatus(c, true) }

func (s *Server) apiVehicleStatus(c echo.Context, restore bool) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx, a := c.Request().Context(), actor(c)
	if restore {
		err = s.db.RestoreVehicle(ctx, a, id)
	} else {
		err = s.db.ArchiveVehicle(ctx, a, id)
	}
	if err != nil {
		return err
	}
	return s.answerVehicle(c, http.StatusOK, id)
}

type apiGroup struct {
	ID       int64  `json:"id"`
	ParentID int64  `json:"parent_id"`
	Name     string `json:"name"`
	Path     string `json:"path"`
	Access   string `json:"access"` // "manage", "view" or "none" (visible through a vehicle only)
	Active   int    `json:"active_vehicles"`
	Vehicles int    `json:"vehicles"`
	Version  int    `json:"version"`
}

func toAPIGroup(g db.Group) apiGroup {
	return apiGroup{g.ID, g.ParentID, g.Name, g.Path, g.Level.String(), g.Active, g.Total, g.Version}
}

// apiGroups lists the groups the member sees, depth-first (one page: a
// tree is read whole).
func (s *Server) apiGroups(c echo.Context) error {
	gs, err := s.db.Groups(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	out := make([]apiGroup, 0, len(gs))
	for _, g := range gs {
		out = append(out, toAPIGroup(g))
	}
	return c.JSON(http.StatusOK, map[string]any{"groups": out, "next": ""})
}

// group finds a group the member sees; any other id is not found.
func (s *Server) group(c echo.Context, id int64) (db.Group, error) {
	gs, err := s.db.Groups(c.Request().Context(), actor(c))
	if err != nil {
		return db.Group{}, err
	}
	for _, g := range gs {
		if g.ID == id {
			return g, nil
		}
	}
	return db.Group{}, db.Errorf(db.ENotFound, "Group not found.")
}

func (s *Server) answerGroup(c echo.Context, status int, id int64) error {
	g, err := s.group(c, id)
	if err != nil {
		return err
	}
	setETag(c, g.Version)
	if status == http.StatusCreated {
		c.Response().Header().Set(echo.HeaderLocation, "/api/v1/groups/"+strconv.FormatInt(id, 10))
	}
	return c.JSON(status, toAPIGroup(g))
}

func (s *Server) apiGroup(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	return s.answerGroup(c, http.StatusOK, id)
}

type groupBody struct {
	Name     string `json:"name"`
	ParentID int64  `json:"parent_id"`
}

func (b groupBody) problems() map[string]string {
	errs := map[string]string{}
	if b.ParentID < 0 {
		errs["parent_id"] = "Choose one of the offered groups."
	}
	return errs
}

func (s *Server) apiGroupCreate(c echo.Context) error {
	var b groupBody
	if err := readJSON(c, &b); err != nil || answered(c) {
		return err
	}
	if errs := b.problems(); len(errs) > 0 {
		return invalidFields(c, errs, "parent_id")
	}
	id, err := s.db.CreateGroup(c.Request().Context(), actor(c), b.Name, b.ParentID)
	if err != nil {
		return err
	}
	return s.answerGroup(c, http.StatusCreated, id)
}

func (s *Server) apiGroupUpdate(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	version, ok, err := ifMatch(c)
	if !ok {
		return err
	}
	var b groupBody
	if err := readJSON(c, &b); err != nil || answered(c) {
		return err
	}
	if errs := b.problems(); len(errs) > 0 {
		return invalidFields(c, errs, "parent_id")
	}
	if err := s.db.UpdateGroup(c.Request().Context(), actor(c), id, version, b.Name, b.ParentID); err != nil {
		return refused(c, err, version, func() (int, any, error) {
			g, err := s.group(c, id)
			return g.Version, toAPIGroup(g), err
		})
	}
	return s.answerGroup(c, http.StatusOK, id)
}

func (s *Server) apiGroupDelete(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.db.DeleteGroup(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type apiClient struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Email    string `json:"email"`
	Phone    string `json:"phone"`
	Address  string `json:"address"`
	Vehicles int    `json:"vehicles"` // paired vehicles the member sees
	Version  int    `json:"version"`
}

func toAPIClient(cl db.Client) apiClient {
	return apiClient{cl.ID, cl.Name, cl.Email, cl.Phone, cl.Address, cl.Vehicles, cl.Version}
}

// apiClients lists the clients the member sees (the client-usability
// rule), by name, a page read through the name index from the cursor (the
// "next" of the previous answer); "total" only when the page holds every
// match or with total=1. The older page=N still reads numbered pages, counted.
func (s *Server) apiClients(c echo.Context) error {
	after, err := apiCursor(c, db.ValidNameCursor)
	if answered(c) {
		return err
	}
	f := db.ClientFilter{Query: clip(c.QueryParam("q"), 100), After: after, PerPage: perPage(c, 50), Count: c.QueryParam("total") == "1"}
	if pg := queryInt(c, "page"); pg > 1 && after == "" {
		f.Page, f.Count = pg, true
	}
	rows, ks, err := s.db.ClientsPage(c.Request().Context(), actor(c), f)
	if err != nil {
		return err
	}
	out := make([]apiClient, 0, len(rows))
	for _, cl := range rows {
		out = append(out, toAPIClient(cl))
	}
	answer := map[string]any{"clients": out, "next": ks.Next}
	if ks.Total >= 0 {
		answer["total"] = ks.Total
	}
	return c.JSON(http.StatusOK, answer)
}

func (s *Server) answerClient(c echo.Context, status int, id int64) error {
	cl, err := s.db.Client(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	setETag(c, cl.Version)
	if status == http.StatusCreated {
		c.Response().Header().Set(echo.HeaderLocation, "/api/v1/clients/"+strconv.FormatInt(id, 10))
	}
	return c.JSON(status, toAPIClient(cl))
}

func (s *Server) apiClient(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	return s.answerClient(c, http.StatusOK, id)
}

type clientBody struct {
	Name    string `json:"name"`
	Email   string `json:"email"`
	Phone   string `json:"phone"`
	Address string `json:"address"`
}

func (b clientBody) input() (db.ClientInput, map[string]string) {
	in := db.ClientInput{Name: b.Name, Email: b.Email, Phone: b.Phone, Address: b.Address}
	in.Clean()
	return in, in.Problems()
}

var clientFields = []string{"name", "email", "phone", "address"}

func (s *Server) apiClientCreate(c echo.Context) error {
	var b clientBody
	if err := readJSON(c, &b); err != nil || answered(c) {
		return err
	}
	in, errs := b.input()
	if len(errs) > 0 {
		return invalidFields(c, errs, clientFields...)
	}
	id, err := s.db.CreateClient(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return s.answerClient(c, http.StatusCreated, id)
}

func (s *Server) apiClientUpdate(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	version, ok, err := ifMatch(c)
	if !ok {
		return err
	}
	var b clientBody
	if err := readJSON(c, &b); err != nil || answered(c) {
		return err
	}
	in, errs := b.input()
	if len(errs) > 0 {
		return invalidFields(c, errs, clientFields...)
	}
	if err := s.db.UpdateClient(c.Request().Context(), actor(c), id, version, in); err != nil {
		return refused(c, err, version, func() (int, any, error) {
			cl, err := s.db.Client(c.Request().Context(), actor(c), id)
			return cl.Version, toAPIClient(cl), err
		})
	}
	return s.answerClient(c, http.StatusOK, id)
}

func (s *Server) apiClientDelete(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.db.DeleteClient(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type apiPairing struct {
	VehicleID int64  `json:"vehicle_id"`
	Vehicle   string `json:"vehicle"`
	ClientID  int64  `json:"client_id"`
	Client    string `json:"client"`
}

// apiPairings lists the pairings of one vehicle (vehicle_id=) or of one
// client (client_id=), as the pairing screen does.
func (s *Server) apiPairings(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	pg, err := listPage(c)
	if answered(c) {
		return err
	}
	per := perPage(c, 50)
	vehicleID, verr := strconv.ParseInt(c.QueryParam("vehicle_id"), 10, 64)
	clientID, cerr := strconv.ParseInt(c.QueryParam("client_id"), 10, 64)
	out := []apiPairing{}
	var total int
	switch {
	case verr == nil && vehicleID > 0 && c.QueryParam("client_id") == "":
		v, err := s.db.Vehicle(ctx, a, vehicleID)
		if err != nil {
			return err
		}
		var cs []db.Client
		if cs, total, _, err = s.db.VehicleClients(ctx, a, vehicleID, db.ClientFilter{PairedWith: vehicleID, Page: pg, PerPage: per}); err != nil {
			return err
		}
		for _, cl := range cs {
			out = append(out, apiPairing{v.ID, v.Name, cl.ID, cl.Name})
		}
	case cerr == nil && clientID > 0 && c.QueryParam("vehicle_id") == "":
		cl, err := s.db.Client(ctx, a, clientID)
		if err != nil {
			return err
		}
		var vs []db.Vehicle
		if vs, total, _, err = s.db.ClientVehicles(ctx, a, clientID, db.VehicleFilter{PairedWith: clientID, Status: "all", Page: pg, PerPage: per}); err != nil {
			return err
		}
		for _, v := range vs {
			out = append(out, apiPairing{v.ID, v.Name, cl.ID, cl.Name})
		}
	default:
		return problemFields(c, http.StatusUnprocessableEntity, "Invalid input", "Give either vehicle_id or client_id.",
			map[string]string{"vehicle_id": "Give a vehicle's id, or client_id instead."})
	}
	return c.JSON(http.StatusOK, map[string]any{"pairings": out, "total": total, "next": nextCursor(pg, per, total)})
}

type pairingBody struct {
	VehicleID int64 `json:"vehicle_id"`
	ClientID  int64 `json:"client_id"`
}

// apiPairingCreate pairs a vehicle the member manages with a client they
// see; pairing what is paired already changes nothing.
func (s *Server) apiPairingCreate(c echo.Context) error {
	var b pairingBody
	if err := readJSON(c, &b); err != nil || answered(c) {
		return err
	}
	errs := map[string]string{}
	if b.VehicleID <= 0 {
		errs["vehicle_id"] = "Choose a vehicle."
	}
	if b.ClientID <= 0 {
		errs["client_id"] = "Choose a client."
	}
	if len(errs) > 0 {
		return invalidFields(c, errs, "vehicle_id", "client_id")
	}
	v, cl, err := s.db.SetPairing(c.Request().Context(), actor(c), b.VehicleID, b.ClientID, true)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/pairings?vehicle_id="+strconv.FormatInt(v.ID, 10))
	return c.JSON(http.StatusCreated, apiPairing{v.ID, v.Name, cl.ID, cl.Name})
}

func (s *Server) apiPairingDelete(c echo.Context) error {
	vehicleID, err := pathID(c, "id")
	if err != nil {
		return err
	}
	clientID, err := pathID(c, "client")
	if err != nil {
		return err
	}
	if _, _, err := s.db.SetPairing(c.Request().Context(), actor(c), vehicleID, clientID, false); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
