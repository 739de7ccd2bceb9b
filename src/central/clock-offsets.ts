// Each car's latest reported clock offset (central minus car clock), so events that carry none are
// still corrected. Kept in memory and filled from the store on the first event of a car.
import type { CentralStore } from './store/store.js';

export class ClockOffsets {
  private readonly byCar = new Map<string, number | null>();

  constructor(private readonly store: CentralStore) {}

  /** Returns the offset to use for an event: its own, else the car's last reported one, else null. */
  async resolve(carId: string, reportedMs: number | null): Promise<number | null> {
    if (reportedMs !== null) {
      this.byCar.set(carId, reportedMs);
      return reportedMs;
    }
    if (!this.byCar.has(carId)) this.byCar.set(carId, await this.store.getCarClockOffset(carId));
    return this.byCar.get(carId) ?? null;
  }

  /** Records an offset a car reported outside an event, such as in a status message. */
  remember(carId: string, reportedMs: number | null): void {
    if (reportedMs !== null) this.byCar.set(carId, reportedMs);
  }
}
