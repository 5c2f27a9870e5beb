package spreadsheet_test

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"io"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"

	"roster.dev/roster/internal/spreadsheet"
)

const (
	benchRows = 100_000
	// maxPeakHeap is the memory budget of one 100,000-row import.
	maxPeakHeap = 150 << 20
)

func benchRow(i int) []string {
	return []string{
		fmt.Sprintf("person%d@example.com", i), "Firstname", fmt.Sprintf("Lastname%d", i),
		fmt.Sprint(447700900000 + i), fmt.Sprintf("user%d", i), "Member",
		"Engineering; Platform", "crm; billing", "yes",
	}
}

// inlineWorkbook is what NewXLSXWriter writes: inline strings.
func inlineWorkbook(b *testing.B) []byte {
	var buf bytes.Buffer
	w, err := spreadsheet.NewXLSXWriter(&buf, "People", []string{"email", "first_name", "last_name", "phone", "username", "role", "teams", "applications", "send_invite"})
	must(b, err)
	for i := range benchRows {
		must(b, w.Write(benchRow(i)))
	}
	must(b, w.Close())
	return buf.Bytes()
}

// sharedStringsWorkbook is laid out as Excel saves: text in a shared string
// table (one entry per distinct value, so about 600,000 here), numbers as numbers.
func sharedStringsWorkbook(b *testing.B) []byte {
	var sheet, sst strings.Builder
	index := map[string]int{}
	var order []string
	sheet.WriteString(sheetHead)
	for r := 1; r <= benchRows; r++ {
		fmt.Fprintf(&sheet, `<row r="%d">`, r)
		for c, v := range benchRow(r - 1) {
			ref := fmt.Sprintf("%c%d", 'A'+c, r)
			if c == 3 {
				fmt.Fprintf(&sheet, `<c r="%s"><v>%s</v></c>`, ref, v)
				continue
			}
			i, ok := index[v]
			if !ok {
				i = len(order)
				index[v] = i
				order = append(order, v)
			}
			fmt.Fprintf(&sheet, `<c r="%s" t="s"><v>%d</v></c>`, ref, i)
		}
		sheet.WriteString(`</row>`)
	}
	sheet.WriteString(sheetTail)
	fmt.Fprintf(&sst, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">`, len(order), len(order))
	for _, v := range order {
		fmt.Fprintf(&sst, `<si><t>%s</t></si>`, html.EscapeString(v))
	}
	sst.WriteString(`</sst>`)
	return buildZip(b,
		part{"[Content_Types].xml", strings.NewReader(strings.Replace(contentTypesXML, "</Types>", `<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`, 1))},
		part{"_rels/.rels", strings.NewReader(rootRelsXML)},
		part{"xl/workbook.xml", strings.NewReader(workbookXML)},
		part{"xl/_rels/workbook.xml.rels", strings.NewReader(strings.Replace(workbookRelsXML, "</Relationships>", `<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`, 1))},
		part{"xl/sharedStrings.xml", strings.NewReader(sst.String())},
		part{"xl/worksheets/sheet1.xml", strings.NewReader(sheet.String())},
	)
}

// BenchmarkReadXLSX reads 100,000 rows of 9 columns, reporting rows/s and the
// peak heap of the read (live and garbage objects, sampled after Open and every
// 100 rows, less the heap before Open: the file's own bytes are not counted),
// and fails past the memory budget.
// grown is how much the heap grew from base to now (0 if it shrank).
func grown(now, base uint64) uint64 { return now - min(base, now) }

func BenchmarkReadXLSX(b *testing.B) {
	for _, bc := range []struct {
		name string
		make func(*testing.B) []byte
	}{{"inline-strings", inlineWorkbook}, {"shared-strings", sharedStringsWorkbook}} {
		b.Run(bc.name, func(b *testing.B) {
			data := bc.make(b)
			b.ReportMetric(float64(len(data))/(1<<20), "file-MiB")
			sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
			heap := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
			var peak uint64
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				runtime.GC()
				base := heap()
				b.StartTimer()
				r, err := spreadsheet.Open(bytes.NewReader(data), int64(len(data)), spreadsheet.XLSX, spreadsheet.Limits{})
				must(b, err)
				peak = max(peak, grown(heap(), base))
				n := 0
				for {
					row, err := r.Next()
					if errors.Is(err, io.EOF) {
						break
					}
					must(b, err)
					if n++; n%100 == 1 {
						peak = max(peak, grown(heap(), base))
					}
					if n > 1 && (len(row.Cells) != 9 || !strings.HasPrefix(row.Cells[0], "person") || !strings.HasPrefix(row.Cells[3], "4477009") || len(row.Cells[3]) != 12) {
						b.Fatalf("row %d = %q", row.Number, row.Cells)
					}
				}
				must(b, r.Close())
				if n != benchRows+1 && n != benchRows {
					b.Fatalf("read %d rows", n)
				}
			}
			b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			if peak > maxPeakHeap {
				b.Errorf("peak heap %d MiB, over the %d MiB budget", peak>>20, maxPeakHeap>>20)
			}
		})
	}
}
