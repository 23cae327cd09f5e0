import { StoreUnavailableError } from '../../exposures/exposure-store';
import { StoreDeadlines } from './store-deadline';

describe('StoreDeadlines', () => {
  it('hands the same signal to requests of one slot and a new one after it', () => {
    const deadlines = new StoreDeadlines(5000, 50);
    const first = deadlines.signal(1000);
    expect(deadlines.signal(1049)).toBe(first);
    expect(deadlines.signal(1050)).not.toBe(first);
  });

  it('aborts with StoreUnavailableError between the timeout and the timeout plus a slot', async () => {
    jest.useFakeTimers();
    try {
      const deadlines = new StoreDeadlines(100, 50);
      const signal = deadlines.signal(0);
      jest.advanceTimersByTime(99);
      expect(signal.aborted).toBe(false);
      jest.advanceTimersByTime(51);
      expect(signal.aborted).toBe(true);
      expect(signal.reason).toBeInstanceOf(StoreUnavailableError);
    } finally {
      jest.useRealTimers();
    }
  });
});
