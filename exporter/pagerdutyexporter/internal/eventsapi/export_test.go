package eventsapi

// waiting returns how many events wait for routingKey's next slot; 0
// without a limit.
func (l *Limiter) waiting(routingKey string) int {
	if l.perWindow == 0 {
		return 0
	}
	k := l.forKey(routingKey)
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.waiters.Len()
}
