// The highlights job as shipped: detections of generated chat with injected bursts.
export { default } from '../../../pipeline/jobs/highlights.ts';
