package pace

import "time"

// buckets is how many one-second buckets an admission counts: its own
// second and the 60 before it, so that every 60-second interval lies
// within what the last admission in it counted.
const buckets = 61

// bucketOf is the bucket of t: its Unix second.
func bucketOf(t time.Time) int64 { return t.Unix() }

// window is a subject's rolling minute of one rate limit: what was
// counted in each of the last 61 seconds.
type window struct {
	head   int64          // the newest bucket
	counts [buckets]int64 // counts[i] is bucket head-i
	total  int64          // the sum of counts
}

// advance makes b the newest bucket, dropping those that leave the
// window; an older b changes nothing.
func (w *window) advance(b int64) {
	shift := b - w.head
	if shift <= 0 {
		return
	}
	w.head = b
	if shift >= buckets {
		w.counts, w.total = [buckets]int64{}, 0
		return
	}
	for _, n := range w.counts[buckets-shift:] {
		w.total -= n
	}
	copy(w.counts[shift:], w.counts[:buckets-shift])
	clear(w.counts[:shift])
}

// add counts n (negative: takes back, never below zero) in bucket b,
// advancing to it; a bucket already out of the window changes nothing.
func (w *window) add(b, n int64) {
	w.advance(b)
	i := w.head - b
	if i >= buckets {
		return
	}
	if n < 0 {
		n = -min(-n, w.counts[i])
	}
	w.counts[i] += n
	w.total += n
}

// sum is what the window counts at bucket b.
func (w *window) sum(b int64) int64 {
	w.advance(b)
	return w.total
}

// fits reports whether cost more stays within limit at bucket b.
func (w *window) fits(b, cost, limit int64) bool { return w.sum(b)+cost <= limit }

// retryAfter is how long after now until cost fits within limit, as the
// oldest buckets leave; zero when it fits now, and -1 when it never will.
func (w *window) retryAfter(now time.Time, cost, limit int64) time.Duration {
	if cost > limit {
		return -1
	}
	excess := w.sum(bucketOf(now)) + cost - limit
	if excess <= 0 {
		return 0
	}
	freed := int64(0)
	for i := buckets - 1; i >= 0; i-- {
		freed += w.counts[i]
		if freed >= excess {
			return leaves(w.head-int64(i), now)
		}
	}
	return leaves(w.head, now)
}

// reset is how long after now until the window is empty: when its newest
// non-empty bucket leaves it.
func (w *window) reset(now time.Time) time.Duration {
	w.advance(bucketOf(now))
	for i, n := range w.counts {
		if n > 0 {
			return leaves(w.head-int64(i), now)
		}
	}
	return 0
}

// leaves is how long after now bucket b stops being counted: when the
// bucket 61 seconds after it begins.
func leaves(b int64, now time.Time) time.Duration {
	return time.Unix(b+buckets, 0).Sub(now)
}

// trimmed is the counts without the trailing empty buckets, as stored.
func (w *window) trimmed() []int64 {
	n := buckets
	for n > 0 && w.counts[n-1] == 0 {
		n--
	}
	return w.counts[:n]
}

// load sets w to what the database stores.
func (w *window) load(head int64, counts []int64) {
	*w = window{head: head}
	for i, n := range counts {
		if i >= buckets {
			break
		}
		w.counts[i] = n
		w.total += n
	}
}
