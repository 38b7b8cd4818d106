package kwimport

import (
	"strings"
	"testing"
)

func BenchmarkParseCSV100k(b *testing.B) {
	in := csvRows(MaxRows)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := ParseCSV(strings.NewReader(in), MaxRows)
		if err != nil || len(res.Rows) != MaxRows {
			b.Fatalf("rows %d, err %v", len(res.Rows), err)
		}
	}
}

func BenchmarkParseJSON100k(b *testing.B) {
	in := jsonRows(MaxRows)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := ParseJSON(strings.NewReader(in), MaxRows)
		if err != nil || len(res.Rows) != MaxRows {
			b.Fatalf("rows %d, err %v", len(res.Rows), err)
		}
	}
}
