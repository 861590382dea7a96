package app

import (
	"cmp"
	"math"
	"slices"
	"strconv"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// plot is what a loss chart shows. SVG draws it (the picture, also what an export saves);
// chartFigure shows it on the page with its text alternative, so every chart on the page gets
// the same: a description inside the picture and a data table under it.
type plot struct {
	ID, Title, XLabel, YLabel, Empty string
	Lines                            []chartLine
}

// SVG draws the chart, described in l.
func (p plot) SVG(l Lang) string {
	return lossChartDesc(p.ID, p.Title, p.XLabel, p.YLabel, p.Empty, p.desc(l), p.Lines)
}

// desc says what the chart shows in words, for a screen reader's user: where each line starts
// and ends, and that the data table has every point.
func (p plot) desc(l Lang) string {
	s := ""
	for _, ln := range p.Lines {
		if len(ln.Points) == 0 {
			continue
		}
		first, last := ln.Points[0], ln.Points[len(ln.Points)-1]
		s += l.T("chart.desc_line", ln.Label, fmtValue(first[1]), fmtValue(first[0]), fmtValue(last[1]), fmtValue(last[0])) + " "
	}
	if s == "" {
		return p.Empty
	}
	return s + l.T("chart.desc_table")
}

// chartRows is the chart's data as a table: a column for the x axis, then one for each line
// with points; a row for each x where a line other than a faint one has a point (a faint line
// gives context: the smoothed trend has a point every step, and its values show at those rows
// only), x ascending; a cell is "" where its line has no point at that x.
func chartRows(p plot) (head []string, rows [][]string) {
	var cols []chartLine
	for _, ln := range p.Lines {
		if len(ln.Points) > 0 {
			cols = append(cols, ln)
		}
	}
	if len(cols) == 0 {
		return nil, nil
	}
	xs := map[float64]bool{}
	for _, faint := range []bool{false, true} {
		for _, ln := range cols {
			if ln.Faint == faint {
				for _, pt := range ln.Points {
					xs[pt[0]] = true
				}
			}
		}
		if len(xs) > 0 { // faint lines set the rows only when all lines are faint
			break
		}
	}
	keys := make([]float64, 0, len(xs))
	for x := range xs {
		keys = append(keys, x)
	}
	slices.SortFunc(keys, cmp.Compare)
	head = append(head, p.XLabel)
	for _, ln := range cols {
		head = append(head, ln.Label)
	}
	for _, x := range keys {
		row := []string{fmtValue(x)}
		for _, ln := range cols {
			cell := ""
			if k := slices.IndexFunc(ln.Points, func(pt [2]float64) bool { return pt[0] == x }); k >= 0 {
				cell = fmtValue(ln.Points[k][1])
			}
			row = append(row, cell)
		}
		rows = append(rows, row)
	}
	return head, rows
}

// fmtValue writes a chart value for reading: whole numbers (steps) as they are, others to four
// significant digits.
func fmtValue(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// dataTable is what a chart shows, as text: its alternative for a reader who cannot see it.
type dataTable struct {
	ID, Caption string
	Empty       string     // said where there are no rows
	Head        []string   // the column headers; Head[0] heads the rows' own headers
	Rows        [][]string // Rows[i][0] is row i's header
}

// table is the plot's data table (chartRows).
func (p plot) table() dataTable {
	head, rows := chartRows(p)
	return dataTable{ID: p.ID + "-table", Caption: p.Title, Empty: p.Empty, Head: head, Rows: rows}
}

// chartFigure shows a chart and, under it, a closed "Data table" (a <details>, opened by
// keyboard like any control) listing what it shows. A loss chart comes as a Plot (drawn and
// tabled here); any other as its SVG and its Table. The table is built only while open, so a
// chart redrawn every second costs no hidden rows.
type chartFigure struct {
	app.Compo
	Lang  Lang
	Plot  plot
	SVG   string
	Table dataTable
	open  bool
}

// Render draws the chart and its data table.
func (c *chartFigure) Render() app.UI {
	l := c.Lang
	svg, loss := c.SVG, c.Plot.ID != ""
	if loss {
		svg = c.Plot.SVG(l)
	}
	var table app.UI
	if c.open {
		t := c.Table
		if loss {
			t = c.Plot.table()
		}
		table = t.render()
	}
	details := app.Details().ID(c.Plot.ID + c.Table.ID + "-data").Class("chart-data")
	if c.open { // no open="false" in the prerendered page, which HTML reads as open
		details = details.Open(true)
	}
	return app.Div().Class("chart-figure").Body(
		app.Raw(svg),
		details.OnToggle(func(ctx app.Context, e app.Event) { c.open = ctx.JSSrc().Get("open").Bool() }).
			Body(app.Summary().Text(l.T("chart.data_table")), table),
	)
}

// render draws the table: a caption, column headers and row headers, in a box that scrolls.
func (t dataTable) render() app.UI {
	if len(t.Rows) == 0 {
		return app.P().Class("hint").Text(t.Empty)
	}
	return scrollBox("chart-table", t.Caption).Body(app.Table().ID(t.ID).Body(
		app.Caption().Text(t.Caption),
		app.THead().Body(app.Tr().Body(app.Range(t.Head).Slice(func(i int) app.UI {
			return app.Th().Scope("col").Text(t.Head[i])
		}))),
		app.TBody().Body(app.Range(t.Rows).Slice(func(i int) app.UI {
			row := t.Rows[i]
			return app.Tr().Body(
				app.Th().Scope("row").Text(row[0]),
				app.Range(row[1:]).Slice(func(j int) app.UI { return app.Td().Text(row[1+j]) }),
			)
		})),
	))
}
