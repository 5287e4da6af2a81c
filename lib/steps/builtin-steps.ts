/** The steps `use:` names without a path: the catalogue the README's table is generated from. */
import { addFieldsStep } from './builtins/add-fields.ts';
import { castStep } from './builtins/cast.ts';
import { dropStep } from './builtins/drop.ts';
import { expectStep } from './builtins/expect.ts';
import { filterStep } from './builtins/filter.ts';
import { flattenStep } from './builtins/flatten.ts';
import { hashStep } from './builtins/hash.ts';
import { logStep } from './builtins/log.ts';
import { maskStep } from './builtins/mask.ts';
import { renameStep } from './builtins/rename.ts';
import { selectStep } from './builtins/select.ts';
import { summarizeStep } from './builtins/summarize.ts';
import { validateStep } from './builtins/validate.ts';
import type { StepDefinition } from './step.ts';

export const BUILTIN_STEPS: ReadonlyMap<string, StepDefinition> = new Map(
  [
    renameStep,
    dropStep,
    selectStep,
    hashStep,
    maskStep,
    filterStep,
    flattenStep,
    castStep,
    addFieldsStep,
    validateStep,
    expectStep,
    summarizeStep,
    logStep,
  ].map((step) => [step.name, step]),
);
