package spreadsheet

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
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

	// totalRatioFloor: an archive that unpacks to more than this is refused when,
	// as a whole, it unpacks to more than MaxRatio times its packed size. Many parts
	// each under ratioFloor escape the check of one part, not this one.
	totalRatioFloor = 16 << 20

	// maxPartInMemory bounds each part that excelize holds in memory whatever its
	// size (the content types, the relationships, workbook.xml, styles.xml) or
	// decodes at once; a real one is at most a few hundred KB. The worksheet and the
	// shared strings above xmlInMemory go to temporary files instead.
	maxPartInMemory = 8 << 20
)

// directorySignature starts every entry of a zip's central directory.
var directorySignature = []byte("PK\x01\x02")

// checkEntryCount refuses a file holding more than maxParts central directory
// signatures, before archive/zip allocates a File for each entry: it reads every
// header until one does not parse, whatever count the directory's end declares, so
// a 20 MiB upload of bare headers would cost it some 100 MiB. Every entry starts
// with the signature, so their count bounds the entries; the signature's four bytes
// turn up by chance in compressed data about once in 4 GiB.
func checkEntryCount(r io.ReaderAt, size int64) error {
	const chunk = 64 << 10
	buf := make([]byte, chunk+len(directorySignature)-1)
	n, carry := 0, 0
	for off := int64(0); off < size; off += chunk {
		m, err := r.ReadAt(buf[carry:carry+int(min(chunk, size-off))], off)
		if err != nil && !errors.Is(err, io.EOF) {
			return unreadable("a damaged .xlsx workbook (its zip archive cannot be read)", err)
		}
		b := buf[:carry+m]
		n += bytes.Count(b, directorySignature)
		if n > maxParts {
			return tooLarge(fmt.Sprintf("has more than %d parts: it is not a workbook Excel would write", maxParts))
		}
		// Keep the last bytes, which may begin a signature that the next chunk ends.
		carry = min(len(b), len(directorySignature)-1)
		copy(buf, b[len(b)-carry:])
	}
	return nil
}

// checkArchive refuses a zip whose directory promises more than the limits allow,
// before a byte is unpacked. The declared sizes can be trusted as upper bounds:
// archive/zip fails a read that unpacks more than its entry declared.
func checkArchive(zr *zip.Reader, l Limits) error {
	if len(zr.File) > maxParts {
		return tooLarge(fmt.Sprintf("has more than %d parts: it is not a workbook Excel would write", maxParts))
	}
	limit := uint64(l.MaxUnzipped)
	var total, packed uint64
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
		packed += c
		if strings.EqualFold(partName(f.Name), "xl/workbook.xml") {
			workbook = true
		}
	}
	if total > totalRatioFloor && (packed == 0 || float64(total)/float64(packed) > float64(l.MaxRatio)) {
		return tooLarge(fmt.Sprintf("unpacks to more than %d times its packed size, as zip bombs do", l.MaxRatio))
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
// the same. need is the parts excelize needs to stream that worksheet: the content
// types, the relationships, the workbook, its shared strings and styles, and the
// worksheet, each found as excelize finds it.
func firstWorksheet(zr *zip.Reader) (name string, part *zip.File, need []*zip.File, err error) {
	parts := make(map[string]*zip.File, len(zr.File))
	var contentTypes, sharedStrings *zip.File
	for _, f := range zr.File {
		n := partName(f.Name)
		parts[n] = f // the last of a name, as excelize keeps it
		switch strings.ToLower(n) {
		case "[content_types].xml":
			contentTypes = f
		case "xl/sharedstrings.xml":
			sharedStrings = f
		}
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
		return "", nil, nil, err
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
		return "", nil, nil, err
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
		return "", nil, nil, err
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
			for _, n := range []*zip.File{contentTypes, parts["_rels/.rels"], parts[wbPath], parts[relsPath],
				sharedStrings, parts["xl/styles.xml"], f} {
				if n != nil && !slices.Contains(need, n) {
					need = append(need, n)
				}
			}
			return s.name, f, need, nil
		}
	}
	return "", nil, nil, unreadable("a workbook without a worksheet", nil)
}

// checkInMemory refuses a part that excelize would hold in memory whole and that
// is larger than maxPartInMemory. excelize holds every part of the zip it opens in
// memory but the worksheets and the shared strings larger than inMemory, which it
// unpacks to temporary files.
func checkInMemory(parts []*zip.File, inMemory int64) error {
	for _, f := range parts {
		name := partName(f.Name)
		toFile := strings.EqualFold(name, "xl/sharedStrings.xml") || strings.HasPrefix(strings.ToLower(name), "xl/worksheets/sheet")
		if f.UncompressedSize64 > maxPartInMemory && !(toFile && f.UncompressedSize64 > uint64(inMemory)) {
			return tooLarge(fmt.Sprintf("has a part (%s) that unpacks to more than %s, more than a workbook needs there: open it in Excel and save it again",
				name, mib(maxPartInMemory)))
		}
	}
	return nil
}

// excelizePackage streams a zip of the parts only, copied without being unpacked,
// for excelize to read whole: the other parts of a workbook (sheets past the
// first, images, a bomb's filler) are never unpacked, nor held in memory. Close
// stops the copy and returns once it has stopped.
func excelizePackage(parts []*zip.File) io.ReadCloser {
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		pw.CloseWithError(writePackage(pw, parts))
	}()
	return packageReader{pr, done}
}

type packageReader struct {
	*io.PipeReader
	done chan struct{}
}

func (p packageReader) Close() error {
	err := p.PipeReader.Close()
	<-p.done
	return err
}

func writePackage(w io.Writer, parts []*zip.File) error {
	zw := zip.NewWriter(w)
	for _, f := range parts {
		fh := f.FileHeader
		pw, err := zw.CreateRaw(&fh)
		if err != nil {
			return err
		}
		rc, err := f.OpenRaw()
		if err != nil {
			return err
		}
		if _, err := io.Copy(pw, rc); err != nil {
			return err
		}
	}
	return zw.Close()
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
