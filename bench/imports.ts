// Benchmarks measure what we ship: values come from the build (dist/),
// types from src/ so type-checking works without a build.
import type * as Lbsim from '../src/index.js';

const distUrl = new URL('../dist/index.js', import.meta.url).href;
export const lbsim = (await import(distUrl)) as typeof Lbsim;
