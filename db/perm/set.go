package perm

import "sort"

// Set is the permissions a role holds, each with its scope values
// (empty map when the permission has no scopes or none are set).
type Set map[Key]map[string]int

// Has reports whether k is in the set.
func (s Set) Has(k Key) bool { _, ok := s[k]; return ok }

// Scope returns the value of a scope of k (0 when unset).
func (s Set) Scope(k Key, scope string) int { return s[k][scope] }

// Keys returns the keys of s in catalog order.
func (s Set) Keys() []Key {
	var out []Key
	for _, k := range All() {
		if s.Has(k) {
			out = append(out, k)
		}
	}
	return out
}

// Clone copies s deeply.
func (s Set) Clone() Set {
	out := make(Set, len(s))
	for k, sc := range s {
		c := make(map[string]int, len(sc))
		for n, v := range sc {
			c[n] = v
		}
		out[k] = c
	}
	return out
}

// Of builds a set of unscoped permissions.
func Of(keys ...Key) Set {
	s := Set{}
	for _, k := range keys {
		s[k] = map[string]int{}
	}
	return s
}

// Everything is every permission of the catalog, unscoped.
func Everything() Set { return Of(All()...) }

// WithRequirements turns on, recursively, everything the set's permissions
// require. It returns the permissions it added, in catalog order.
func (s Set) WithRequirements() []Key {
	var added []Key
	changed := true
	for changed {
		changed = false
		for _, k := range s.Keys() {
			for _, r := range byKey[k].Requires {
				if !s.Has(r) {
					s[r] = map[string]int{}
					added = append(added, r)
					changed = true
				}
			}
		}
	}
	return sortKeys(added)
}

// WithoutOrphans turns off, recursively, every permission whose
// prerequisites are no longer in the set. It returns what it removed.
func (s Set) WithoutOrphans() []Key {
	var removed []Key
	changed := true
	for changed {
		changed = false
		for _, k := range s.Keys() {
			for _, r := range byKey[k].Requires {
				if !s.Has(r) {
					delete(s, k)
					removed = append(removed, k)
					changed = true
					break
				}
			}
		}
	}
	return sortKeys(removed)
}

// Normalize drops unknown keys and unknown scopes and clamps scope values.
func (s Set) Normalize() {
	for k, sc := range s {
		p, ok := byKey[k]
		if !ok {
			delete(s, k)
			continue
		}
		clean := map[string]int{}
		for _, def := range p.Scopes {
			v, ok := sc[def.Key]
			if !ok || v == 0 {
				continue
			}
			switch def.Kind {
			case ScopeBool:
				v = 1
			case ScopeDays:
				if v < 0 {
					v = 0
				}
				if def.Max > 0 && v > def.Max {
					v = def.Max
				}
			}
			if v != 0 {
				clean[def.Key] = v
			}
		}
		s[k] = clean
	}
}

// Covers reports whether holding s gives at least everything in other,
// including scopes: a scoped grant (own trips only, N days of history)
// is narrower than the same permission without that limit.
func (s Set) Covers(other Set) bool {
	return len(s.Missing(other)) == 0
}

// Missing lists the permissions of other that s does not cover.
func (s Set) Missing(other Set) []Key {
	var out []Key
	for _, k := range other.Keys() {
		mine, ok := s[k]
		if !ok || !scopeCovers(mine, other[k]) {
			out = append(out, k)
		}
	}
	return out
}

func scopeCovers(mine, theirs map[string]int) bool {
	if mine[ScopeOwnOnly] == 1 && theirs[ScopeOwnOnly] != 1 {
		return false
	}
	if d := mine[ScopeHistoryDays]; d > 0 {
		t := theirs[ScopeHistoryDays]
		if t == 0 || t > d {
			return false
		}
	}
	return true
}

// Diff returns what a member holding old gains and loses when the role
// becomes new. A change of scope counts as both (lose the old, gain the new).
func Diff(old, new Set) (gain, lose []Key) {
	for _, k := range All() {
		o, inOld := old[k]
		n, inNew := new[k]
		switch {
		case inNew && !inOld:
			gain = append(gain, k)
		case inOld && !inNew:
			lose = append(lose, k)
		case inOld && inNew && !equalScopes(o, n):
			gain = append(gain, k)
			lose = append(lose, k)
		}
	}
	return gain, lose
}

// Equal reports whether two sets hold the same permissions and scopes.
func Equal(a, b Set) bool {
	g, l := Diff(a, b)
	return len(g) == 0 && len(l) == 0
}

func equalScopes(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func sortKeys(ks []Key) []Key {
	order := map[Key]int{}
	for i, k := range All() {
		order[k] = i
	}
	sort.Slice(ks, func(i, j int) bool { return order[ks[i]] < order[ks[j]] })
	return ks
}
