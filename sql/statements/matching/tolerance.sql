abs(l.amount - e.amount) <= greatest({absolute}::numeric, {relative}::numeric * abs(l.amount))
AND abs(e.day - l.day) <= {window}
