/**
 * A chat spike found by the highlights job: the record of the `highlights` topic and of
 * `scout replay --job highlights --out`. Times are epoch milliseconds.
 */
export interface Detection {
  readonly broadcaster_login: string;
  readonly broadcaster_id?: number;
  /** When the spike was known: the end of the judged bucket (event time). */
  readonly detected_at: number;
  readonly bucket_start: number;
  readonly bucket_end: number;
  /** Messages in the judged bucket. */
  readonly count: number;
  readonly baseline_mean: number;
  readonly baseline_stddev: number;
  /** How far above the baseline, in the detector's unit of spread (σ for the spec's rule). */
  readonly z: number;
}
