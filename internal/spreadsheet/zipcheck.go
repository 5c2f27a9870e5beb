package spreadsheet

import (
	"archive/zip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

const (
	// ratioFloor: entries that unpack to less than this are not checked for their
	// compression ratio. A small part of repetitive XML (styles, an empty sheet)
	// legitimately compresses hundreds of times, and cannot hurt by itself: the
	// total limit still counts it.
	ratioFloor = 1 << 20

	// maxParts bounds the number of zip entries, since excelize keeps a map entry
	// (and maybe a temporary file) for each; a real workbook has a few dozen.
	maxParts = 10000

	// maxSheets bounds how many sheet entries of workbook.xml are considered when
	// looking for the first worksheet.
	maxSheets = 256
)

// checkArchive refuses a zip whose directory promises more than the limits allow,
// before a byte is unpacked. The declared sizes can be trusted as upper bounds:
// archive/zip fails a read that unpacks more than its entry declared.
func checkArchive(zr *zip.Reader, l Limits) error {
	if len(zr.File) > maxParts {
		return tooLarge(fmt.Sprintf("has more than %d parts: it is not a workbook Excel would write", maxParts))
	}
	limit := uint64(l.MaxUnzipped)
	var total uint64
	workbook := false
	for _, f := range zr.File {
		u, c := f.UncompressedSize64, f.CompressedSize64
		// Checking u alone first keeps the sum from overflowing.
		if u > limit || total+u > limit {
			return tooLarge(fmt.Sprintf("unpacks to more than %s", mib(l.MaxUnzipped)))
		}
		total += u
		if u > ratioFloor && (c == 0 || float64(u)/float64(c) > float64(l.MaxRatio)) {
			return tooLarge(fmt.Sprintf("has a part that unpacks to more than %d times its packed size, as zip bombs do", l.MaxRatio))
		}
		if strings.EqualFold(partName(f.Name), "xl/workbook.xml") {
			workbook = true
		}
	}
	if !workbook {
		return unreadable("not an .xlsx workbook (a zip archive without one in it: save the file as Excel Workbook, .xlsx)", nil)
	}
	return nil
}

func mib(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// partName is a zip entry's name as excelize keys it.
func partName(name string) string { return strings.ReplaceAll(name, `\`, "/") }

const (
	relOfficeDocument = "/officeDocument"
	relWorksheet      = "/worksheet"
)

// firstWorksheet finds the name and the part of the workbook's first worksheet
// (chart sheets are passed over), resolving the relationships the way excelize
// does, so that the sheet excelize streams and the part sheetScanner checks are
// the same.
func firstWorksheet(zr *zip.Reader) (name string, part *zip.File, err error) {
	parts := make(map[string]*zip.File, len(zr.File))
	for _, f := range zr.File {
		parts[partName(f.Name)] = f
	}
	wbPath := "xl/workbook.xml"
	err = eachElement(parts["_rels/.rels"], func(e xml.StartElement) bool {
		if e.Name.Local == "Relationship" && strings.HasSuffix(attr(e, "Type"), relOfficeDocument) {
			wbPath = strings.TrimPrefix(attr(e, "Target"), "/")
			return false
		}
		return true
	})
	if err != nil {
		return "", nil, err
	}
	type sheet struct{ name, id string }
	var sheets []sheet
	err = eachElement(parts[wbPath], func(e xml.StartElement) bool {
		if e.Name.Local == "sheet" {
			s := sheet{name: attr(e, "name")}
			for _, a := range e.Attr {
				if a.Name.Local == "id" && a.Name.Space != "" { // r:id, not sheetId
					s.id = a.Value
				}
			}
			sheets = append(sheets, s)
		}
		return len(sheets) < maxSheets
	})
	if err != nil {
		return "", nil, err
	}
	ids := make(map[string]bool, len(sheets))
	for _, s := range sheets {
		ids[s.id] = true
	}
	targets := map[string]string{}
	relsPath := strings.TrimPrefix(path.Join(path.Dir(wbPath), "_rels", path.Base(wbPath)+".rels"), "/")
	err = eachElement(parts[relsPath], func(e xml.StartElement) bool {
		if id := attr(e, "Id"); e.Name.Local == "Relationship" && ids[id] && strings.HasSuffix(attr(e, "Type"), relWorksheet) {
			targets[id] = attr(e, "Target")
		}
		return true
	})
	if err != nil {
		return "", nil, err
	}
	for _, s := range sheets {
		target, ok := targets[s.id]
		if !ok {
			continue
		}
		p := strings.TrimPrefix(path.Clean(path.Dir(wbPath)+"/"+target), "/")
		if strings.HasPrefix(target, "/") {
			p = strings.TrimPrefix(path.Clean(target), "/")
		}
		if f := parts[p]; f != nil {
			return s.name, f, nil
		}
	}
	return "", nil, unreadable("a workbook without a worksheet", nil)
}

// eachElement streams the start elements of a part to fn until fn returns false.
// A missing part has none. A damaged one is an *Error of Kind Unreadable.
func eachElement(f *zip.File, fn func(xml.StartElement) bool) error {
	if f == nil {
		return nil
	}
	rc, err := f.Open()
	if err != nil {
		return unreadable("a damaged workbook", err)
	}
	defer rc.Close()
	d := xml.NewDecoder(rc)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return unreadable("a damaged workbook", err)
		}
		if e, ok := tok.(xml.StartElement); ok && !fn(e) {
			return nil
		}
	}
}

// attr is the value of the attribute with the given local name, or "".
func attr(e xml.StartElement, local string) string {
	for _, a := range e.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}
