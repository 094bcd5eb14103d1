package views

import (
	"strings"
	"testing"
)

func TestQRPathDrawsTheCodeWithItsBorder(t *testing.T) {
	d, n, ok := QRPath("otpauth://totp/Fleetgate:ana@acme.test?secret=JBSWY3DPEHPK3PXP&issuer=Fleetgate")
	if !ok {
		t.Fatal("not encoded")
	}
	// A QR code is (17 + 4·version) modules wide, plus the border on both sides.
	if core := n - 2*qrQuiet; core < 21 || (core-17)%4 != 0 {
		t.Fatalf("size %d", n)
	}
	// The three finder patterns: their outer corners are dark, the first
	// module after the border; the border itself is blank.
	last := int64(n - qrQuiet - 1)
	for _, m := range []string{"M4 4h", "M" + itoa(last) + " 4h", "M4 " + itoa(last) + "h"} {
		if !strings.Contains(d, m) {
			t.Errorf("no dark module %q", m)
		}
	}
	if strings.Contains(d, "M3 ") || strings.Contains(d, " 3h") {
		t.Error("a module drawn in the border")
	}
	if _, _, ok := QRPath(strings.Repeat("x", 5000)); ok {
		t.Error("text too long for a QR code was drawn")
	}
}
