package perm

import (
	"reflect"
	"testing"
)

func TestCatalogIsConsistent(t *testing.T) {
	t.Parallel()
	seen := map[Key]bool{}
	for _, m := range Catalog {
		for _, p := range m.Permissions {
			if seen[p.Key] {
				t.Errorf("%s twice in the catalog", p.Key)
			}
			seen[p.Key] = true
			if p.Label == "" || p.Help == "" {
				t.Errorf("%s lacks a label or help text", p.Key)
			}
		}
	}
	for _, m := range Catalog {
		for _, p := range m.Permissions {
			for _, r := range p.Requires {
				if !seen[r] {
					t.Errorf("%s requires unknown %s", p.Key, r)
				}
			}
		}
	}
	// Requirements form no cycle: closing one permission never brings
	// back a permission that requires it.
	for _, k := range All() {
		s := Of(k)
		s.WithRequirements()
		for other := range s {
			if other == k {
				continue
			}
			o := Of(other)
			o.WithRequirements()
			if o.Has(k) {
				t.Errorf("cycle between %s and %s", k, other)
			}
		}
	}
	// Every built-in default is already closed under its requirements.
	for _, b := range BuiltinRoles() {
		s := b.Defaults.Clone()
		if added := s.WithRequirements(); len(added) > 0 {
			t.Errorf("%s defaults lack %v", b.Builtin, added)
		}
	}
}

func TestWithRequirementsClosesTransitively(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    Set
		added []Key
	}{
		{"edit vehicles needs view", Of(VehiclesEdit), []Key{VehiclesView}},
		{"finalize needs edit, view trips, view vehicles", Of(TripsFinalize), []Key{VehiclesView, TripsView, TripsEdit}},
		{"export all needs both report permissions", Of(AccountExport), []Key{ReportsView, ReportsExport}},
		{"pairing needs clients and vehicles", Of(PairingManage), []Key{VehiclesView, ClientsView}},
		{"already closed", Of(VehiclesView, VehiclesEdit), nil},
		{"no prerequisites", Of(AuditView), nil},
		{"empty", Set{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.in.Clone()
			added := s.WithRequirements()
			if !reflect.DeepEqual(added, tt.added) {
				t.Fatalf("added %v, want %v", added, tt.added)
			}
			for _, k := range s.Keys() {
				p, _ := Lookup(k)
				for _, r := range p.Requires {
					if !s.Has(r) {
						t.Errorf("%s kept without %s", k, r)
					}
				}
			}
		})
	}
}

func TestWithRequirementsKeepsScopes(t *testing.T) {
	t.Parallel()
	s := Set{TripsView: {ScopeOwnOnly: 1}, TripsRecord: {}}
	s.WithRequirements()
	if s.Scope(TripsView, ScopeOwnOnly) != 1 || !s.Has(VehiclesView) {
		t.Fatalf("closure lost a scope or a requirement: %v", s)
	}
}

func TestWithoutOrphansRemovesDependents(t *testing.T) {
	t.Parallel()
	// Turning off View trips turns off everything built on it.
	s := Of(VehiclesView, TripsRecord, TripsEdit, TripsRecurring, TripsFinalize, ReportsView)
	removed := s.WithoutOrphans()
	want := []Key{TripsRecord, TripsEdit, TripsRecurring, TripsFinalize}
	if !reflect.DeepEqual(removed, want) {
		t.Fatalf("removed %v, want %v", removed, want)
	}
	if !reflect.DeepEqual(s.Keys(), []Key{ReportsView, VehiclesView}) {
		t.Fatalf("left %v", s.Keys())
	}
	// Turning off View vehicles reaches pairing through its second prerequisite.
	s = Of(ClientsView, ClientsManage, PairingManage)
	if removed := s.WithoutOrphans(); !reflect.DeepEqual(removed, []Key{PairingManage}) {
		t.Fatalf("removed %v", removed)
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	s := Set{
		"nonsense.key": {},
		TripsView:      {ScopeOwnOnly: 7, ScopeHistoryDays: 99999, "colour": 3},
		VehiclesView:   {ScopeOwnOnly: 1}, // vehicles.view has no scopes
		TripsRecord:    nil,
	}
	s.Normalize()
	want := Set{
		TripsView:    {ScopeOwnOnly: 1, ScopeHistoryDays: 3650},
		VehiclesView: {},
		TripsRecord:  {},
	}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("got %v, want %v", s, want)
	}
	s = Set{TripsView: {ScopeHistoryDays: -5, ScopeOwnOnly: 0}}
	s.Normalize()
	if len(s[TripsView]) != 0 {
		t.Fatalf("negative days and off switches must vanish: %v", s)
	}
}

// The no-escalation subset check: a holder of mine may give theirs only
// when Covers says so, scopes included.
func TestCoversAndMissing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mine    Set
		theirs  Set
		missing []Key
	}{
		{"everything covers a manager", Everything(), builtin(Manager), nil},
		{"a driver does not cover a manager", builtin(Driver), builtin(Manager), []Key{ReportsView, VehiclesCreate, VehiclesEdit, VehiclesArchive,
			TripsView, TripsEdit, TripsRecurring, TripsFinalize, ClientsView, ClientsManage, PairingManage, UsersView, UsersManage}},
		{"equal sets", Of(VehiclesView), Of(VehiclesView), nil},
		{"empty is covered by anything", Of(), Of(), nil},
		{"a missing key", Of(VehiclesView), Of(VehiclesView, VehiclesEdit), []Key{VehiclesEdit}},
		{"unscoped covers own-only", Of(TripsView), Set{TripsView: {ScopeOwnOnly: 1}}, nil},
		{"own-only does not cover unscoped", Set{TripsView: {ScopeOwnOnly: 1}}, Of(TripsView), []Key{TripsView}},
		{"own-only covers own-only", Set{TripsView: {ScopeOwnOnly: 1}}, Set{TripsView: {ScopeOwnOnly: 1}}, nil},
		{"30 days covers 7", Set{TripsView: {ScopeHistoryDays: 30}}, Set{TripsView: {ScopeHistoryDays: 7}}, nil},
		{"7 days does not cover 30", Set{TripsView: {ScopeHistoryDays: 7}}, Set{TripsView: {ScopeHistoryDays: 30}}, []Key{TripsView}},
		{"limited does not cover unlimited", Set{TripsView: {ScopeHistoryDays: 7}}, Of(TripsView), []Key{TripsView}},
		{"unlimited covers limited", Of(TripsView), Set{TripsView: {ScopeHistoryDays: 7}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.mine.Missing(tt.theirs)
			if !reflect.DeepEqual(got, tt.missing) {
				t.Fatalf("missing %v, want %v", got, tt.missing)
			}
			if tt.mine.Covers(tt.theirs) != (len(tt.missing) == 0) {
				t.Fatal("Covers disagrees with Missing")
			}
		})
	}
}

func TestDiffAndEqual(t *testing.T) {
	t.Parallel()
	old := Set{VehiclesView: {}, TripsView: {ScopeOwnOnly: 1}, TripsEdit: {}}
	new := Set{VehiclesView: {}, TripsView: {}, ReportsView: {}}
	gain, lose := Diff(old, new)
	if !reflect.DeepEqual(gain, []Key{ReportsView, TripsView}) {
		t.Fatalf("gain %v", gain)
	}
	if !reflect.DeepEqual(lose, []Key{TripsView, TripsEdit}) {
		t.Fatalf("lose %v", lose)
	}
	if Equal(old, new) || !Equal(old, old.Clone()) {
		t.Fatal("Equal is wrong")
	}
	// An empty scope map and a missing one are the same grant.
	if !Equal(Set{VehiclesView: {}}, Set{VehiclesView: nil}) {
		t.Fatal("nil scopes differ from empty scopes")
	}
}

func TestCloneIsDeep(t *testing.T) {
	t.Parallel()
	s := Set{TripsView: {ScopeOwnOnly: 1}}
	c := s.Clone()
	c[TripsView][ScopeOwnOnly] = 0
	delete(c, TripsView)
	if s.Scope(TripsView, ScopeOwnOnly) != 1 {
		t.Fatal("clone shares scope maps")
	}
}

func builtin(b Builtin) Set {
	for _, r := range BuiltinRoles() {
		if r.Builtin == b {
			return r.Defaults
		}
	}
	panic(b)
}

func BenchmarkHas(b *testing.B) {
	s := builtin(Manager)
	for b.Loop() {
		if !s.Has(TripsEdit) {
			b.Fatal("manager lacks trips.edit")
		}
	}
}

func BenchmarkCovers(b *testing.B) {
	mine, theirs := Everything(), builtin(Manager)
	for b.Loop() {
		if !mine.Covers(theirs) {
			b.Fatal("everything does not cover manager")
		}
	}
}
