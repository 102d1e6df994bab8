// The studies the browser test looks at, made through the REST API, with
// the figures each chart must show.
export const ONE = {
  id: 'one',
  spec: {
    metrics: [{ metricId: 'acc', goal: 'MAXIMIZE' }],
    parameters: [
      { parameterId: 'lr', doubleValueSpec: { minValue: 1e-5, maxValue: 0.1 }, scaleType: 'UNIT_LOG_SCALE' },
      { parameterId: 'layers', integerValueSpec: { minValue: 1, maxValue: 8 } },
      { parameterId: 'opt', categoricalValueSpec: { values: ['adam', 'sgd', 'rmsprop'] } },
      { parameterId: 'dropout', doubleValueSpec: { minValue: 0, maxValue: 0.5 } },
    ],
    seed: '7',
  },
};

export const TWO = {
  id: 'two',
  spec: {
    algorithm: 'RANDOM_SEARCH',
    metrics: [
      { metricId: 'acc', goal: 'MAXIMIZE' },
      { metricId: 'latency', goal: 'MINIMIZE' },
      { metricId: 'mem', goal: 'MINIMIZE', safetyConfig: { safetyThreshold: 100 } },
    ],
    parameters: [
      { parameterId: 'width', integerValueSpec: { minValue: 1, maxValue: 64 } },
      { parameterId: 'act', categoricalValueSpec: { values: ['relu', 'gelu'] } },
    ],
  },
};

const OPTS = ['adam', 'sgd', 'rmsprop'];
const STEPS = 10, EARLY_STEPS = 3;

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

// Study one: n imported SUCCEEDED trials with learning curves (early of
// them stopped at EARLY_STEPS), then from the GP: 1 completed, 3
// infeasible, 2 left ACTIVE.
export async function seedOne(api, owner, n = 40, early = 8) {
  const base = `/v1/owners/${owner}/studies/${ONE.id}`;
  await api.post(`/v1/owners/${owner}/studies`, { displayName: ONE.id, studySpec: ONE.spec });
  const r = rng(11);
  for (let i = 0; i < n; i++) {
    const lr = Math.exp(Math.log(1e-5) + r() * Math.log(1e4));
    const opt = OPTS[Math.floor(r() * 3)];
    const final = 0.9 - 0.05 * (Math.log10(lr) + 3) ** 2 - (opt === 'sgd' ? 0.1 : 0);
    const steps = i < early ? EARLY_STEPS : STEPS;
    const measurements = [];
    for (let s = 1; s <= steps; s++) {
      measurements.push({ stepCount: String(s * 100), metrics: [{ metricId: 'acc', value: final * (1 - Math.exp(-s / 3)) }] });
    }
    await api.post(`${base}/trials`, {
      state: 'SUCCEEDED',
      parameters: [
        { parameterId: 'lr', value: lr }, { parameterId: 'layers', value: 1 + Math.floor(r() * 8) },
        { parameterId: 'opt', value: opt }, { parameterId: 'dropout', value: r() * 0.5 },
      ],
      measurements,
      finalMeasurement: measurements.at(-1),
    });
  }
  const op = await api.post(`${base}/trials:suggest`, { suggestionCount: 6, clientId: 'worker-1' });
  const ids = op.response.trials.map((t) => t.id);
  await api.post(`${base}/trials/${ids[0]}:complete`, { finalMeasurement: { metrics: [{ metricId: 'acc', value: 0.5 }] } });
  for (const id of ids.slice(1, 4)) {
    await api.post(`${base}/trials/${id}:complete`, { trialInfeasible: true, infeasibleReason: 'out of memory' });
  }
  return { feasible: n + 1, infeasible: 3, active: 2, early, curves: n, completedSuggested: ids[0], activeId: ids[4], activeId2: ids[5], total: n + 6 };
}

// Study two: a known front of 6, 14 trials it dominates, 4 that break the
// mem constraint.
export async function seedTwo(api, owner) {
  const base = `/v1/owners/${owner}/studies/${TWO.id}`;
  await api.post(`/v1/owners/${owner}/studies`, { displayName: TWO.id, studySpec: TWO.spec });
  const add = (width, acc, latency, mem) => api.post(`${base}/trials`, {
    state: 'SUCCEEDED',
    parameters: [{ parameterId: 'width', value: width }, { parameterId: 'act', value: width % 2 ? 'relu' : 'gelu' }],
    finalMeasurement: { metrics: [{ metricId: 'acc', value: acc }, { metricId: 'latency', value: latency }, { metricId: 'mem', value: mem }] },
  });
  for (let i = 1; i <= 6; i++) await add(i * 8, i / 10, i, 50);
  for (let i = 0; i < 14; i++) await add(i + 1, (1 + (i % 6)) / 10 - 0.05, 1 + (i % 6) + 0.5, 60);
  for (let i = 0; i < 4; i++) await add(60 + i, 0.9, 0.5, 200);
  return { front: 6, feasible: 20, infeasible: 4 };
}

// A study with no trial yet, with a conditional parameter.
export async function seedEmpty(api, owner) {
  await api.post(`/v1/owners/${owner}/studies`, {
    displayName: 'empty',
    studySpec: {
      metrics: [{ metricId: 'loss', goal: 'MINIMIZE' }],
      parameters: [{
        parameterId: 'model', categoricalValueSpec: { values: ['linear', 'tree'] },
        conditionalParameterSpecs: [{
          parentCategoricalValues: { values: ['tree'] },
          parameterSpec: { parameterId: 'depth', integerValueSpec: { minValue: 1, maxValue: 10 } },
        }],
      }],
    },
  });
}

// Another owner's study, which the first owner's keys must not reach.
export async function seedOther(api) {
  await api.post('/v1/owners', { ownerId: 'other' });
  await api.post('/v1/owners/other/studies', { displayName: 'secret', studySpec: TWO.spec });
}
