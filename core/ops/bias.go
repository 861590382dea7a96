package ops

// AddBias adds bias[c] to every row of the rows×cols y, in place.
func (d *CPU) AddBias(y, bias Buf, rows, cols int) {
	yv, bv := f32(y)[:rows*cols], f32(bias)[:cols]
	for r := 0; r < rows; r++ {
		row := yv[r*cols : (r+1)*cols]
		for c := range row {
			row[c] += bv[c]
		}
	}
}

// AddBiasBackward adds the column sums of dy into dbias. Each column is summed from 0 over
// r = 0..rows-1 in increasing order and the total then added to dbias[c], so the result does not
// depend on how a device splits the columns among threads.
func (d *CPU) AddBiasBackward(dbias, dy Buf, rows, cols int) {
	dbv, dyv := f32(dbias)[:cols], f32(dy)[:rows*cols]
	// Row by row (not column by column) to read dy contiguously; sum[c] still sees the rows in
	// increasing order.
	sum := make([]float32, cols)
	for r := 0; r < rows; r++ {
		row := dyv[r*cols : (r+1)*cols]
		for c := range row {
			sum[c] += row[c]
		}
	}
	for c := range dbv {
		dbv[c] += sum[c]
	}
}
