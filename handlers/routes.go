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

		// Roles and the permission matrix (handlers/roles.go): roles.view
		// to look, roles.manage to change; which roles and permissions a
		// member may change is decided in db/roles.go.
		{GET, "/roles", Perm(perm.RolesView), s.rolesIndex},
		{POST, "/roles", Perm(perm.RolesManage), s.roleCreate},
		{GET, "/roles/:id", Perm(perm.RolesView), s.roleShow},
		{POST, "/roles/:id", Perm(perm.RolesManage), s.roleSave},
		{POST, "/roles/:id/impact", Perm(perm.RolesManage), s.roleImpact},
		{POST, "/roles/:id/rename", Perm(perm.RolesManage), s.roleRename},
		{POST, "/roles/:id/delete", Perm(perm.RolesManage), s.roleDelete},
		{GET, "/roles/:id/history", Perm(perm.RolesView), s.roleHistory},
		{GET, "/roles/:id/history/:v", Perm(perm.RolesView), s.roleVersion},
		{POST, "/roles/:id/history/:v/restore", Perm(perm.RolesManage), s.roleRestore},
	}
}
