package web

import (
	"github.com/shopspring/decimal"
)

// residualChart is the patient page's picture of expected against
// aspirated residual, one point pair per refill, drawn as SVG by the
// template (no script, no image request). Coordinates are computed with
// decimals like every figure, rounded to a tenth of a pixel.
type residualChart struct {
	Width, Height    int
	Expected, Actual string // SVG polyline points "x,y x,y …"
	Points           []chartPoint
	YTicks           []chartTick
	MaxML            decimal.Decimal
}

type chartPoint struct {
	X, YExpected, YActual string
	Label                 string // the refill's date
	Flagged               bool
}

type chartTick struct {
	Y, Label string
}

const (
	chartW, chartH = 640, 220
	chartLeft      = 48 // room for the mL axis
	chartPad       = 16
)

// chartOf lays out the residuals of one pump; nil when there is nothing
// to compare (no refill after the first fill).
func chartOf(rs []residual) *residualChart {
	if len(rs) == 0 {
		return nil
	}
	max := decimal.NewFromInt(1)
	for _, r := range rs {
		max = decimal.Max(max, r.Expected, r.Aspirated)
	}
	max = max.Ceil()
	c := &residualChart{Width: chartW, Height: chartH, MaxML: max}
	plotW := decimal.NewFromInt(chartW - chartLeft - 2*chartPad)
	plotH := decimal.NewFromInt(chartH - 2*chartPad)
	x := func(i int) decimal.Decimal {
		if len(rs) == 1 {
			return decimal.NewFromInt(chartLeft + chartPad).Add(plotW.Div(decimal.NewFromInt(2)))
		}
		return decimal.NewFromInt(chartLeft + chartPad).Add(plotW.Mul(decimal.NewFromInt(int64(i))).Div(decimal.NewFromInt(int64(len(rs) - 1))))
	}
	y := func(ml decimal.Decimal) decimal.Decimal {
		return decimal.NewFromInt(chartPad).Add(plotH.Sub(plotH.Mul(ml).Div(max)))
	}
	px := func(d decimal.Decimal) string { return d.StringFixed(1) }
	for i, r := range rs {
		p := chartPoint{X: px(x(i)), YExpected: px(y(r.Expected)), YActual: px(y(r.Aspirated)), Label: r.Date, Flagged: r.Flagged}
		c.Points = append(c.Points, p)
		if i > 0 {
			c.Expected += " "
			c.Actual += " "
		}
		c.Expected += p.X + "," + p.YExpected
		c.Actual += p.X + "," + p.YActual
	}
	for _, f := range []int64{0, 1, 2} { // 0, half, max
		ml := max.Mul(decimal.NewFromInt(f)).Div(decimal.NewFromInt(2))
		c.YTicks = append(c.YTicks, chartTick{Y: px(y(ml)), Label: ml.String() + " mL"})
	}
	return c
}
