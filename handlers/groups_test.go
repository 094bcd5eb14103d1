package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestGroupsTreeCreateMoveDelete(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.login("owner@demo.test")
	res := owner.get("/groups")
	if got := strings.Join(res.find("[data-testid=group-name]"), ","); got != "North,Chicago,Milwaukee,South,Austin,Houston" {
		t.Fatalf("tree: %s", got)
	}
	// Create under North; a name taken among siblings is refused next to the field.
	if res := owner.postForm("/groups", url.Values{"name": {"Gary"}, "parent_id": {groupID(t, owner, "North")}}); res.status != http.StatusSeeOther {
		t.Fatalf("create: %d", res.status)
	}
	res = owner.postForm("/groups", url.Values{"name": {"gary"}, "parent_id": {groupID(t, owner, "North")}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(strings.Join(res.find(".field .error"), ""), "already exists") {
		t.Fatalf("duplicate: %d", res.status)
	}
	if v, _ := res.doc().Find("#group-new-name").Attr("value"); v != "gary" {
		t.Fatal("name not kept")
	}
	gary := groupID(t, owner, "Gary")
	// Move it under South, rename it; a move under itself is refused.
	if res := owner.postEdit(t, "/groups", "/groups/"+gary, url.Values{"name": {"Gary Yard"}, "parent_id": {groupID(t, owner, "South")}}); res.status != http.StatusSeeOther {
		t.Fatalf("move: %d", res.status)
	}
	res = owner.postEdit(t, "/groups", "/groups/"+groupID(t, owner, "South"), url.Values{"name": {"South"}, "parent_id": {gary}})
	if res.status != http.StatusUnprocessableEntity || len(res.find("details[open] .error")) != 1 {
		t.Fatalf("cycle: %d %v", res.status, res.find(".error"))
	}
	// Delete: refused while it holds vehicles, fine when empty.
	res = owner.postForm("/groups/"+groupID(t, owner, "Chicago")+"/delete", nil)
	if flash := owner.get(res.header.Get("Location")).find(".flash-error"); len(flash) != 1 || !strings.Contains(flash[0], "still holds 9 vehicles") {
		t.Fatalf("delete non-empty: %v", flash)
	}
	if res := owner.postForm("/groups/"+gary+"/delete", nil); res.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", res.status)
	}
	if strings.Contains(owner.get("/groups").body, "Gary") {
		t.Fatal("group still listed")
	}
	// A manager cannot create a top-level group nor touch the other region.
	m := a.login("manager@demo.test")
	res = m.get("/groups")
	if res.doc().Find("#group-new-parent option[value='0']").Length() != 0 {
		t.Fatal("manager is offered the top level")
	}
	if res := m.postForm("/groups", url.Values{"name": {"Top"}, "parent_id": {"0"}}); res.status != http.StatusForbidden {
		t.Fatalf("manager creates top-level: %d", res.status)
	}
	if res := m.postForm("/groups/"+groupID(t, owner, "Austin"), url.Values{"name": {"Mine"}}); res.status != http.StatusNotFound {
		t.Fatalf("manager renames Austin: %d", res.status)
	}
	if res := m.postForm("/groups", url.Values{"name": {"Evanston"}, "parent_id": {groupID(t, m, "Chicago")}}); res.status != http.StatusSeeOther {
		t.Fatalf("manager creates a depot: %d", res.status)
	}
}
