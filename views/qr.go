package views

import (
	"strconv"
	"strings"

	"github.com/boombuler/barcode/qr"
)

// qrQuiet is the blank border around a QR code, in modules: scanners
// need it to find the code on a page.
const qrQuiet = 4

// QRPath draws text as a QR code for an inline SVG: one path of unit
// squares on a grid of size×size modules (border included), or ok false
// when the text does not fit a QR code. Drawn on the server, so the page
// needs no script and no image request.
func QRPath(text string) (path string, size int, ok bool) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return "", 0, false
	}
	b := code.Bounds()
	var d strings.Builder
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, _, _, _ := code.At(x, y).RGBA(); r == 0 { // a dark module
				d.WriteString("M" + strconv.Itoa(x-b.Min.X+qrQuiet) + " " + strconv.Itoa(y-b.Min.Y+qrQuiet) + "h1v1h-1z")
			}
		}
	}
	return d.String(), b.Dx() + 2*qrQuiet, true
}
