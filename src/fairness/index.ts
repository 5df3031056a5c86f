/**
 * lbsim's fairness kit: metrics (Jain's index, coefficient of variation,
 * max/mean, chi-square goodness of fit, disruption) and fast-check
 * arbitraries (real servers, client populations, IPVS operation sequences,
 * Zipf-skewed choice) for writing property tests about load-balancing
 * fairness.
 *
 * @module
 */

export {
  chiSquare,
  coefficientOfVariation,
  disruption,
  fairnessReport,
  idealDisruption,
  jainIndex,
  logGamma,
  maxOverMean,
  regularizedGammaP,
  regularizedGammaQ,
  tally,
  weightedShares,
} from './metrics.js';
export type { ChiSquareResult, FairnessReport } from './metrics.js';

export {
  clientPopulationArb,
  createZipfSampler,
  indexInto,
  ipvsOperationArb,
  ipvsOperationsArb,
  realServerSetArb,
  realServerSpecArb,
  zipfWeights,
} from './arbitraries.js';
export type {
  AddServerOperation,
  AdvanceClockOperation,
  ClientPopulation,
  ClientPopulationArbOptions,
  ClientSpec,
  ConnectOperation,
  EditServerOperation,
  IpvsOperation,
  IpvsOperationArbOptions,
  IpvsOperationFrequencies,
  IpvsOperationKind,
  IpvsOperationsArbOptions,
  PacketOperation,
  RealServerSetArbOptions,
  RealServerSpec,
  RealServerSpecArbOptions,
  RemoveServerOperation,
  ZipfSampler,
} from './arbitraries.js';

export { IpvsScenario } from './scenario.js';
export type { IpvsScenarioOptions, ScenarioOutcome } from './scenario.js';
