import { ALL_LAYERS, demandGrows, layersDemand, NOTHING, sameDemand, unionDemand } from '@kaskade/media-node';
import { NodeRpc } from '@kaskade/protocol';
import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';

const demandRequest = Compile(NodeRpc['pipe.demand'].request);

describe('what a link is asked to carry of a stream', () => {
  it('names the layers viewers want, always with layer 0, and nothing when none want any', () => {
    expect(layersDemand([2])).toEqual({ wanted: true, spatialLayers: [0, 2] });
    expect(layersDemand([1, 0, 1])).toEqual({ wanted: true, spatialLayers: [0, 1] });
    expect(layersDemand([])).toEqual(NOTHING);
  });

  it('a relay asks of its upstream the union of its links: everything if one wants everything', () => {
    expect(unionDemand([layersDemand([0]), layersDemand([2]), NOTHING])).toEqual({
      wanted: true,
      spatialLayers: [0, 2],
    });
    expect(unionDemand([layersDemand([0]), ALL_LAYERS])).toEqual(ALL_LAYERS);
    expect(unionDemand([NOTHING, NOTHING])).toEqual(NOTHING);
    expect(unionDemand([])).toEqual(NOTHING);
  });

  it('grows when something not asked for before is wanted (asked at once); shrinking may wait', () => {
    expect(demandGrows(NOTHING, layersDemand([0]))).toBe(true);
    expect(demandGrows(layersDemand([0]), layersDemand([2]))).toBe(true);
    expect(demandGrows(layersDemand([0]), ALL_LAYERS)).toBe(true);
    expect(demandGrows(layersDemand([0, 2]), layersDemand([0]))).toBe(false);
    expect(demandGrows(ALL_LAYERS, layersDemand([0]))).toBe(false);
    expect(demandGrows(layersDemand([0]), NOTHING)).toBe(false);
    expect(sameDemand(layersDemand([2, 0]), { wanted: true, spatialLayers: [0, 2, 2] })).toBe(true);
    expect(sameDemand(ALL_LAYERS, layersDemand([0, 1, 2]))).toBe(false);
  });

  it('the wire message keeps the boolean of nodes without layers, and bounds the layers', () => {
    const base = { room: 'r', producerId: 'p' };
    expect(demandRequest.Check({ ...base, wanted: true })).toBe(true);
    expect(demandRequest.Check({ ...base, wanted: false })).toBe(true);
    expect(demandRequest.Check({ ...base, wanted: true, spatialLayers: [0, 2] })).toBe(true);
    expect(demandRequest.Check({ ...base, wanted: true, spatialLayers: [] })).toBe(false);
    expect(demandRequest.Check({ ...base, wanted: true, spatialLayers: [-1] })).toBe(false);
    expect(demandRequest.Check({ ...base, wanted: true, spatialLayers: [0.5] })).toBe(false);
    expect(demandRequest.Check({ ...base, wanted: true, spatialLayers: Array(17).fill(0) })).toBe(false);
    expect(demandRequest.Check({ ...base, spatialLayers: [0] })).toBe(false);
  });
});
