l.amount = e.amount AND abs(e.day - l.day) <= {window}
