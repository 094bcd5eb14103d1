package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"fleetgate/db/perm"
)

// Need is what a route requires of the visitor. The zero Need is invalid:
// every route must say which one it is.
type Need struct {
	kind needKind
	perm perm.Key
}

type needKind int

const (
	needUnset    needKind = iota
	needPublic            // anyone, logged in or not
	needSignedIn          // any member with a console session
	needPerm              // a member whose role holds perm
)

// Public routes need nothing.
var Public = Need{kind: needPublic}

// SignedIn routes need a session but no particular permission.
var SignedIn = Need{kind: needSignedIn}

// Perm routes need one permission of the catalog.
func Perm(k perm.Key) Need {
	if _, ok := perm.Lookup(k); !ok {
		panic("unknown permission " + string(k))
	}
	return Need{kind: needPerm, perm: k}
}

// String names the need for tests and logs.
func (n Need) String() string {
	switch n.kind {
	case needPublic:
		return "public"
	case needSignedIn:
		return "signed-in"
	case needPerm:
		return string(n.perm)
	}
	return "UNSET"
}

// Declared reports whether the route said what it needs.
func (n Need) Declared() bool { return n.kind != needUnset }

// Route is one line of the route table.
type Route struct {
	Method  string
	Path    string
	Need    Need
	Handler echo.HandlerFunc
}

func (r Route) register(e *echo.Echo, s *Server) {
	if !r.Need.Declared() {
		panic("route " + r.Method + " " + r.Path + " declares no permission")
	}
	e.Add(r.Method, r.Path, r.Handler, s.authorize(r.Need))
}

const (
	GET    = http.MethodGet
	POST   = http.MethodPost
	PUT    = http.MethodPut
	DELETE = http.MethodDelete
)

// routes is the route table: every address of the console, what it
// needs, and who answers. Nothing is registered anywhere else.
func (s *Server) routes() []Route {
	return []Route{
		{GET, "/healthz", Public, s.health},
		{GET, "/static/*", Public, s.static},
		{GET, "/login", Public, s.loginPage},
		{POST, "/login", Public, s.login},
		{POST, "/logout", SignedIn, s.logout},
		{GET, "/", SignedIn, s.home},
		{POST, "/account/switch", SignedIn, s.switchAccount},

		{GET, "/users", Perm(perm.UsersView), s.usersList},

		// Vehicles, groups, clients, pairing, members' vehicle access and
		// the subscription (feature: vehicles). Row scope (account, vehicle
		// access, rule 4) is in the db queries these handlers call.
		{GET, "/vehicles", Perm(perm.VehiclesView), s.vehiclesList},
		{GET, "/vehicles/new", Perm(perm.VehiclesCreate), s.vehicleNew},
		{POST, "/vehicles", Perm(perm.VehiclesCreate), s.vehicleCreate},
		{GET, "/vehicles/:id", Perm(perm.VehiclesView), s.vehicleShow},
		{GET, "/vehicles/:id/edit", Perm(perm.VehiclesEdit), s.vehicleEdit},
		{POST, "/vehicles/:id", Perm(perm.VehiclesEdit), s.vehicleUpdate},
		{POST, "/vehicles/:id/archive", Perm(perm.VehiclesArchive), s.vehicleArchive},
		{POST, "/vehicles/:id/restore", Perm(perm.VehiclesArchive), s.vehicleRestore},
		{GET, "/vehicles/:id/clients", Perm(perm.PairingManage), s.vehicleClients},
		{GET, "/vehicles/:id/members", Perm(perm.UsersView), s.vehicleMembers},
		{GET, "/groups", Perm(perm.VehiclesView), s.groupsList},
		{POST, "/groups", Perm(perm.VehiclesEdit), s.groupCreate},
		{POST, "/groups/:id", Perm(perm.VehiclesEdit), s.groupUpdate},
		{POST, "/groups/:id/delete", Perm(perm.VehiclesEdit), s.groupDelete},
		{GET, "/clients", Perm(perm.ClientsView), s.clientsList},
		{GET, "/clients/new", Perm(perm.ClientsManage), s.clientNew},
		{POST, "/clients", Perm(perm.ClientsManage), s.clientCreate},
		{GET, "/clients/:id", Perm(perm.ClientsView), s.clientShow},
		{GET, "/clients/:id/edit", Perm(perm.ClientsManage), s.clientEdit},
		{POST, "/clients/:id", Perm(perm.ClientsManage), s.clientUpdate},
		{POST, "/clients/:id/delete", Perm(perm.ClientsManage), s.clientDelete},
		{GET, "/clients/:id/vehicles", Perm(perm.PairingManage), s.clientVehicles},
		{GET, "/pairing", Perm(perm.PairingManage), s.pairingPage},
		{POST, "/pairing/toggle", Perm(perm.PairingManage), s.pairingToggle},
		{GET, "/users/:id/access", Perm(perm.UsersView), s.accessPage},
		{POST, "/users/:id/access/mode", Perm(perm.UsersManage), s.accessMode},
		{POST, "/users/:id/access/grant", Perm(perm.UsersManage), s.accessGrant},
		{POST, "/users/:id/access/revoke", Perm(perm.UsersManage), s.accessRevoke},
		{GET, "/subscription", Perm(perm.BillingView), s.subscriptionPage},
	}
}
