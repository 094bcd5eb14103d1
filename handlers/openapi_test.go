package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"fleetgate/db"
	"fleetgate/db/perm"
)

// The OpenAPI document is checked against the server it describes: every
// operation gets one valid and one invalid request, and each answer must
// be a status the document lists for it, with a body its schema accepts.

const specURL = "https://fleetgate.test/api/v1/openapi.json"

// apiSpec is the served document and a compiler for its schemas.
type apiSpec struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
}

func loadSpec(t *testing.T, a *app) *apiSpec {
	t.Helper()
	res := a.client().get("/api/v1/openapi.json")
	if res.status != http.StatusOK {
		t.Fatalf("openapi.json: %d", res.status)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(res.body), &doc); err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(res.body))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(specURL, inst); err != nil {
		t.Fatal(err)
	}
	return &apiSpec{doc: doc, compiler: c}
}

// at follows a JSON pointer ("/paths/~1vehicles/get") in the document.
func (s *apiSpec) at(ptr string) any {
	var v any = s.doc
	for _, part := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[part]
	}
	return v
}

func escapePtr(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// operations lists "METHOD /path" of the document (paths as in the route
// table's form {id}).
func (s *apiSpec) operations() []string {
	var out []string
	for p, item := range s.doc["paths"].(map[string]any) {
		for m := range item.(map[string]any) {
			out = append(out, strings.ToUpper(m)+" "+p)
		}
	}
	sort.Strings(out)
	return out
}

// check validates an answer to op against the document: its status is one
// of the op's responses, and its body fits the response's schema.
func (s *apiSpec) check(t *testing.T, op string, res response) {
	t.Helper()
	method, path, _ := strings.Cut(op, " ")
	base := "/paths/" + escapePtr(path) + "/" + strings.ToLower(method) + "/responses/" + strconv.Itoa(res.status)
	resp, ok := s.at(base).(map[string]any)
	if !ok {
		t.Errorf("%s answered %d, which the document does not list: %s", op, res.status, res.body)
		return
	}
	if ref, ok := resp["$ref"].(string); ok {
		base = strings.TrimPrefix(ref, "#")
		resp, _ = s.at(base).(map[string]any)
	}
	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 {
		if strings.TrimSpace(res.body) != "" {
			t.Errorf("%s %d: the document lists no body, got %s", op, res.status, res.body)
		}
		return
	}
	ct, _, _ := strings.Cut(res.header.Get("Content-Type"), ";")
	if _, ok := content[ct]; !ok {
		t.Errorf("%s %d: Content-Type %q, documented %v", op, res.status, ct, keys(content))
		return
	}
	sch, err := s.compiler.Compile(specURL + "#" + base + "/content/" + escapePtr(ct) + "/schema")
	if err != nil {
		t.Fatalf("%s %d: schema: %v", op, res.status, err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(res.body))
	if err != nil {
		t.Errorf("%s %d: not JSON: %s", op, res.status, res.body)
		return
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("%s %d: the body does not fit the documented schema: %v\n%s", op, res.status, err, res.body)
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// call is one request of the walk and the status it must get.
type call struct {
	path    string // under /api/v1
	body    string
	headers []string
	token   string // "" : the world's owner token; "-" : none
	want    int
}

// specWorld is what the cases act on: an account with its Owner's token.
type specWorld struct {
	t     *testing.T
	a     *app
	acct  *fixAccount
	token string
	group int64
	seq   int
}

func (w *specWorld) name(prefix string) string {
	w.seq++
	return fmt.Sprintf("%s %d", prefix, w.seq)
}

func (w *specWorld) vehicle() int64 { return mustVehicle(w.t, w.acct, w.name("Van"), w.group) }
func (w *specWorld) client() int64  { return mustClient(w.t, w.acct, w.name("Client")) }

func (w *specWorld) driver() *fixMember {
	return mustMemberOn(w.t, w.acct, perm.Driver, "selected", "both")
}

func (w *specWorld) trip(vehicle int64) int64 {
	r := w.a.client().send(POST, "/api/v1/trips", w.token, w.tripBody(vehicle))
	if r.status != http.StatusCreated {
		w.t.Fatalf("trip: %d %s", r.status, r.body)
	}
	return idOf(w.t, r)
}

func (w *specWorld) tripBody(vehicle int64) string {
	day := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	return fmt.Sprintf(`{"vehicle_id":%d,"date":%q,"purpose":"business","distance_km":12}`, vehicle, day)
}

func (w *specWorld) customRole() int64 {
	r := w.a.client().send(POST, "/api/v1/roles", w.token, fmt.Sprintf(`{"name":%q}`, w.name("Role")))
	if r.status != http.StatusCreated {
		w.t.Fatalf("role: %d %s", r.status, r.body)
	}
	return idOf(w.t, r)
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

// specCases gives, per operation, a valid and an invalid request.
var specCases = map[string]func(w *specWorld) (valid, invalid call){
	"POST /tokens": func(w *specWorld) (call, call) {
		d := w.driver()
		return call{path: "/tokens", body: `{"email":"` + d.Email + `","password":"` + db.DemoPassword + `"}`, token: "-", want: 201},
			call{path: "/tokens", body: `{"email":"` + d.Email + `"}`, token: "-", want: 422}
	},
	"DELETE /tokens/current": func(w *specWorld) (call, call) {
		return call{path: "/tokens/current", token: tokenOf(w.t, w.acct.Owner), want: 204}, call{path: "/tokens/current", token: "-", want: 401}
	},
	"GET /me": func(w *specWorld) (call, call) {
		return call{path: "/me", want: 200}, call{path: "/me", token: "fgt_wrong", want: 401}
	},
	"GET /vehicles": func(w *specWorld) (call, call) {
		w.vehicle()
		return call{path: "/vehicles?per_page=1", want: 200}, call{path: "/vehicles?cursor=*", want: 422}
	},
	"POST /vehicles": func(w *specWorld) (call, call) {
		return call{path: "/vehicles", body: `{"name":"` + w.name("Van") + `","group_id":` + id(w.group) + `}`, headers: []string{"Idempotency-Key", w.name("k")}, want: 201},
			call{path: "/vehicles", body: `{"name":"","odometer_km":-1}`, want: 422}
	},
	"GET /vehicles/{id}": func(w *specWorld) (call, call) {
		return call{path: "/vehicles/" + id(w.vehicle()), want: 200}, call{path: "/vehicles/999999", want: 404}
	},
	"PUT /vehicles/{id}": func(w *specWorld) (call, call) {
		v := w.vehicle()
		b := `{"name":"` + w.name("Van") + `","group_id":` + id(w.group) + `}`
		return call{path: "/vehicles/" + id(v), body: b, headers: []string{"If-Match", `"1"`}, want: 200},
			call{path: "/vehicles/" + id(w.vehicle()), body: b, want: 428}
	},
	"DELETE /vehicles/{id}": func(w *specWorld) (call, call) {
		return call{path: "/vehicles/" + id(w.vehicle()), want: 200}, call{path: "/vehicles/999999", want: 404}
	},
	"POST /vehicles/{id}/restore": func(w *specWorld) (call, call) {
		v := w.vehicle()
		if err := w.a.db.ArchiveVehicle(t0, w.acct.Owner.Actor, v); err != nil {
			w.t.Fatal(err)
		}
		return call{path: "/vehicles/" + id(v) + "/restore", want: 200}, call{path: "/vehicles/999999/restore", want: 404}
	},
	"GET /groups": func(w *specWorld) (call, call) {
		return call{path: "/groups", want: 200}, call{path: "/groups", token: "-", want: 401}
	},
	"POST /groups": func(w *specWorld) (call, call) {
		return call{path: "/groups", body: `{"name":"` + w.name("Group") + `"}`, headers: []string{"Idempotency-Key", w.name("k")}, want: 201},
			call{path: "/groups", body: `{"name":""}`, want: 422}
	},
	"GET /groups/{id}": func(w *specWorld) (call, call) {
		return call{path: "/groups/" + id(w.group), want: 200}, call{path: "/groups/999999", want: 404}
	},
	"PUT /groups/{id}": func(w *specWorld) (call, call) {
		g := mustGroup(w.t, w.acct, w.name("Group"), 0)
		return call{path: "/groups/" + id(g), body: `{"name":"` + w.name("Renamed") + `"}`, headers: []string{"If-Match", `"1"`}, want: 200},
			call{path: "/groups/" + id(g), body: `{"name":"Stale"}`, headers: []string{"If-Match", `"1"`}, want: 412}
	},
	"DELETE /groups/{id}": func(w *specWorld) (call, call) {
		g := mustGroup(w.t, w.acct, w.name("Group"), 0)
		return call{path: "/groups/" + id(g), want: 204}, call{path: "/groups/" + id(w.group), want: 409}
	},
	"GET /clients": func(w *specWorld) (call, call) {
		w.client()
		return call{path: "/clients", want: 200}, call{path: "/clients?cursor=p", want: 422}
	},
	"POST /clients": func(w *specWorld) (call, call) {
		return call{path: "/clients", body: `{"name":"` + w.name("Client") + `","email":"c@example.com"}`, want: 201},
			call{path: "/clients", body: `{"name":"","email":"not an address"}`, want: 422}
	},
	"GET /clients/{id}": func(w *specWorld) (call, call) {
		return call{path: "/clients/" + id(w.client()), want: 200}, call{path: "/clients/999999", want: 404}
	},
	"PUT /clients/{id}": func(w *specWorld) (call, call) {
		cl := w.client()
		return call{path: "/clients/" + id(cl), body: `{"name":"` + w.name("Client") + `"}`, headers: []string{"If-Match", `"1"`}, want: 200},
			call{path: "/clients/" + id(cl), body: `{"name":"Stale"}`, headers: []string{"If-Match", `"1"`}, want: 412}
	},
	"DELETE /clients/{id}": func(w *specWorld) (call, call) {
		return call{path: "/clients/" + id(w.client()), want: 204}, call{path: "/clients/999999", want: 404}
	},
	"GET /pairings": func(w *specWorld) (call, call) {
		v, cl := w.vehicle(), w.client()
		if _, _, err := w.a.db.SetPairing(t0, w.acct.Owner.Actor, v, cl, true); err != nil {
			w.t.Fatal(err)
		}
		return call{path: "/pairings?vehicle_id=" + id(v), want: 200}, call{path: "/pairings", want: 422}
	},
	"POST /pairings": func(w *specWorld) (call, call) {
		return call{path: "/pairings", body: fmt.Sprintf(`{"vehicle_id":%d,"client_id":%d}`, w.vehicle(), w.client()), want: 201},
			call{path: "/pairings", body: `{"vehicle_id":0,"client_id":0}`, want: 422}
	},
	"DELETE /pairings/{id}/{client}": func(w *specWorld) (call, call) {
		v, cl := w.vehicle(), w.client()
		if _, _, err := w.a.db.SetPairing(t0, w.acct.Owner.Actor, v, cl, true); err != nil {
			w.t.Fatal(err)
		}
		return call{path: "/pairings/" + id(v) + "/" + id(cl), want: 204}, call{path: "/pairings/999999/" + id(cl), want: 404}
	},
	"GET /users": func(w *specWorld) (call, call) {
		return call{path: "/users?per_page=1", want: 200}, call{path: "/users?cursor=*", want: 422}
	},
	"POST /users": func(w *specWorld) (call, call) {
		return call{path: "/users", body: fmt.Sprintf(`{"email":"%s@example.com","role_id":%d,"channel":"mobile"}`, strings.ReplaceAll(w.name("new"), " ", ""), w.acct.role(w.t, perm.Driver)), want: 201},
			call{path: "/users", body: `{"email":"nobody","role_id":0}`, want: 422}
	},
	"GET /users/{id}": func(w *specWorld) (call, call) {
		return call{path: "/users/" + id(w.driver().ID), want: 200}, call{path: "/users/999999", want: 404}
	},
	"PUT /users/{id}": func(w *specWorld) (call, call) {
		d := w.driver()
		return call{path: "/users/" + id(d.ID), body: `{"channel":"mobile"}`, headers: []string{"If-Match", `"1"`}, want: 200},
			call{path: "/users/" + id(d.ID), body: `{"channel":"fax"}`, headers: []string{"If-Match", `"1"`}, want: 422}
	},
	"DELETE /users/{id}": func(w *specWorld) (call, call) {
		return call{path: "/users/" + id(w.driver().ID), want: 204}, call{path: "/users/999999", want: 404}
	},
	"POST /users/{id}/deactivate": func(w *specWorld) (call, call) {
		return call{path: "/users/" + id(w.driver().ID) + "/deactivate", want: 200}, call{path: "/users/" + id(w.driver().ID) + "/deactivate", body: `{"handover_to":"x"}`, want: 400}
	},
	"POST /users/{id}/reactivate": func(w *specWorld) (call, call) {
		d := w.driver()
		mustSetStatus(w.t, w.acct, d.ID, "deactivated")
		return call{path: "/users/" + id(d.ID) + "/reactivate", want: 200}, call{path: "/users/999999/reactivate", want: 404}
	},
	"GET /users/{id}/access": func(w *specWorld) (call, call) {
		d := w.driver()
		mustGrant(w.t, w.acct, d, "vehicle", w.vehicle(), db.View)
		return call{path: "/users/" + id(d.ID) + "/access", want: 200}, call{path: "/users/999999/access", want: 404}
	},
	"PUT /users/{id}/access/mode": func(w *specWorld) (call, call) {
		d := w.driver()
		return call{path: "/users/" + id(d.ID) + "/access/mode", body: `{"mode":"all"}`, want: 200},
			call{path: "/users/" + id(d.ID) + "/access/mode", body: `{"mode":"some"}`, want: 422}
	},
	"POST /users/{id}/grants": func(w *specWorld) (call, call) {
		d := w.driver()
		last := time.Now().UTC().AddDate(0, 1, 0).Format(time.DateOnly)
		return call{path: "/users/" + id(d.ID) + "/grants", body: fmt.Sprintf(`{"kind":"vehicle","target_id":%d,"level":"manage","last_day":%q}`, w.vehicle(), last), want: 201},
			call{path: "/users/" + id(d.ID) + "/grants", body: `{"kind":"vehicle","target_id":1,"level":"drive"}`, want: 422}
	},
	"DELETE /users/{id}/grants/{kind}/{target}": func(w *specWorld) (call, call) {
		d, v := w.driver(), w.vehicle()
		mustGrant(w.t, w.acct, d, "vehicle", v, db.View)
		return call{path: "/users/" + id(d.ID) + "/grants/vehicle/" + id(v), want: 204}, call{path: "/users/" + id(d.ID) + "/grants/vehicle/999999", want: 404}
	},
	"GET /roles": func(w *specWorld) (call, call) {
		return call{path: "/roles", want: 200}, call{path: "/roles", token: "-", want: 401}
	},
	"POST /roles": func(w *specWorld) (call, call) {
		return call{path: "/roles", body: `{"name":"` + w.name("Role") + `","copy_from":` + id(w.acct.role(w.t, perm.Driver)) + `}`, want: 201},
			call{path: "/roles", body: `{"name":""}`, want: 422}
	},
	"GET /roles/{id}": func(w *specWorld) (call, call) {
		return call{path: "/roles/" + id(w.acct.role(w.t, perm.Manager)), want: 200}, call{path: "/roles/999999", want: 404}
	},
	"PUT /roles/{id}": func(w *specWorld) (call, call) {
		r := w.customRole()
		return call{path: "/roles/" + id(r), body: `{"permissions":{"trips.view":{"own_only":1},"trips.record":{}}}`, headers: []string{"If-Match", `"1"`}, want: 200},
			call{path: "/roles/" + id(r), body: `{"permissions":{"trips.fly":{}}}`, headers: []string{"If-Match", `"1"`}, want: 422}
	},
	"GET /audit": func(w *specWorld) (call, call) {
		return call{path: "/audit?per_page=5", want: 200}, call{path: "/audit?from=yesterday", want: 422}
	},
	"GET /subscription": func(w *specWorld) (call, call) {
		return call{path: "/subscription", want: 200}, call{path: "/subscription", token: "-", want: 401}
	},
	"PUT /subscription": func(w *specWorld) (call, call) {
		r := w.a.client().send(GET, "/api/v1/subscription", w.token, "")
		b := `{"paid_vehicles":500,"ends_on":"2099-12-31"}`
		return call{path: "/subscription", body: b, headers: []string{"If-Match", r.header.Get("ETag")}, want: 200},
			call{path: "/subscription", body: b, want: 428}
	},
	"GET /trips": func(w *specWorld) (call, call) {
		v := w.vehicle()
		w.trip(v)
		return call{path: "/trips?vehicle=" + id(v) + "&month=" + time.Now().UTC().AddDate(0, 0, -1).Format("2006-01"), want: 200},
			call{path: "/trips?month=May", want: 422}
	},
	"POST /trips": func(w *specWorld) (call, call) {
		v := w.vehicle()
		return call{path: "/trips", body: w.tripBody(v), headers: []string{"Idempotency-Key", w.name("k")}, want: 201},
			call{path: "/trips", body: `{"vehicle_id":` + id(v) + `,"date":"someday","purpose":"business"}`, want: 422}
	},
	"GET /trips/{id}": func(w *specWorld) (call, call) {
		return call{path: "/trips/" + id(w.trip(w.vehicle())), want: 200}, call{path: "/trips/999999", want: 404}
	},
	"PUT /trips/{id}": func(w *specWorld) (call, call) {
		v := w.vehicle()
		tr := w.trip(v)
		day := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
		return call{path: "/trips/" + id(tr), body: fmt.Sprintf(`{"date":%q,"purpose":"private","distance_km":3,"version":1}`, day), want: 200},
			call{path: "/trips/" + id(tr), body: fmt.Sprintf(`{"date":%q,"purpose":"private","distance_km":3}`, day), want: 422}
	},
	"DELETE /trips/{id}": func(w *specWorld) (call, call) {
		tr := w.trip(w.vehicle())
		return call{path: "/trips/" + id(tr) + "?version=1", want: 204}, call{path: "/trips/" + id(tr), want: 422}
	},
}

// TestOpenAPIOperationsAnswerAsDocumented walks the document: for every
// operation, one valid and one invalid request, each answered with the
// status the case expects, listed in the document, with a body that fits
// the documented schema.
func TestOpenAPIOperationsAnswerAsDocumented(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	spec := loadSpec(t, a)
	acct := mustAccount(t, a, "Spec Fleet")
	mustExec(t, a, `UPDATE subscriptions SET paid_vehicles = 500 WHERE id = (SELECT subscription_id FROM accounts WHERE id = ?)`, acct.ID)
	w := &specWorld{t: t, a: a, acct: acct, token: tokenOf(t, acct.Owner)}
	w.group = mustGroup(t, acct, "Depot", 0)
	mustVehicle(t, acct, "Parked", w.group) // keeps Depot from being deleted
	c := a.client()
	for _, op := range spec.operations() {
		cases, ok := specCases[op]
		if !ok {
			t.Errorf("%s: no valid and invalid request in specCases", op)
			continue
		}
		method, _, _ := strings.Cut(op, " ")
		valid, invalid := cases(w)
		for _, k := range []call{valid, invalid} {
			tok := k.token
			switch tok {
			case "":
				tok = w.token
			case "-":
				tok = ""
			}
			res := c.send(method, "/api/v1"+k.path, tok, k.body, k.headers...)
			if res.status != k.want {
				t.Errorf("%s %s: %d, want %d: %s", method, k.path, res.status, k.want, res.body)
			}
			spec.check(t, op, res)
		}
	}
	for op := range specCases {
		if !contains(spec.operations(), op) {
			t.Errorf("specCases has %s, which the document does not describe", op)
		}
	}
}

// TestOpenAPIDescribesExactlyTheRoutes: every API route of the route
// table is in the document, and every operation of the document is a route.
func TestOpenAPIDescribesExactlyTheRoutes(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	spec := loadSpec(t, a)
	param := regexp.MustCompile(`:([a-z_]+)`)
	routes := map[string]bool{}
	for _, r := range a.s.Table() {
		if !strings.HasPrefix(r.Path, "/api/v1/") || r.Path == "/api/v1/openapi.json" {
			continue
		}
		routes[r.Method+" "+param.ReplaceAllString(strings.TrimPrefix(r.Path, "/api/v1"), "{$1}")] = true
	}
	ops := spec.operations()
	for op := range routes {
		if !contains(ops, op) {
			t.Errorf("route %s is not in openapi.json", op)
		}
	}
	for _, op := range ops {
		if !routes[op] {
			t.Errorf("openapi.json describes %s, which is no route", op)
		}
	}
	// Every $ref points somewhere.
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok && spec.at(strings.TrimPrefix(ref, "#")) == nil {
				t.Errorf("dangling $ref %s", ref)
			}
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(spec.doc)
	var buf bytes.Buffer
	_ = json.Compact(&buf, []byte(a.client().get("/api/v1/openapi.json").body))
	if !strings.Contains(buf.String(), `"openapi":"3.1.0"`) {
		t.Error("not an OpenAPI 3.1 document")
	}
}

var t0 = context.Background()
