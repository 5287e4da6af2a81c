/**
 * Validates records against their stream's JSON Schema with ajv, compiled once per distinct schema.
 * Formats use ajv-formats' fast mode: a regex date-time check is four times faster than the full one
 * and still catches what a warehouse cannot cast.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import * as ajvFormats from 'ajv-formats';
import type { JsonSchema } from '../protocol/messages.ts';
import { asDraft7, isMultipleOf } from './schema-dialects.ts';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = ajvFormats.default as unknown as ajvFormats.FormatsPlugin;

export function addFastFormats(ajv: Ajv): Ajv {
  return addFormats(ajv, {
    mode: 'fast',
    formats: ['date-time', 'date', 'time', 'email', 'uri', 'uuid', 'ipv4', 'ipv6'],
  });
}

export class RecordValidators {
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor() {
    // strict: false because taps send every draft and vendor keywords ("key", "inclusion", ...).
    this.ajv = new Ajv({
      strict: false,
      allErrors: false,
      validateSchema: false,
      logger: false,
    });
    addFormats(this.ajv, {
      mode: 'fast',
      formats: ['date', 'email', 'uri', 'uuid', 'ipv4', 'ipv6'],
    });
    // What taps send: RFC 3339's space for T, any case, and no offset (read as UTC); calendar checks
    // come after, in warehouse-values.ts, with the value named.
    this.ajv.addFormat('date-time', /^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:?\d\d)?$/);
    this.ajv.addFormat('time', /^\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d(?::?\d\d)?)?$/);
    this.ajv.addFormat('singer.decimal', /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/);
    // multipleOf in decimal arithmetic: 605155.71 is a multiple of 0.01, whatever a double says.
    this.ajv.removeKeyword('multipleOf');
    const multipleOf: ((step: number, value: number) => boolean) & { errors?: Partial<ErrorObject>[] } = (
      step,
      value,
    ) => {
      if (isMultipleOf(value, step)) return true;
      multipleOf.errors = [
        { keyword: 'multipleOf', message: `must be a multiple of ${step}`, params: { multipleOf: step } },
      ];
      return false;
    };
    this.ajv.addKeyword({
      keyword: 'multipleOf',
      type: 'number',
      schemaType: 'number',
      validate: multipleOf,
    });
  }

  /** The validator for a schema; compiling is cached by the schema's JSON text. */
  forSchema(schema: JsonSchema): ValidateFunction {
    const text = JSON.stringify(schema);
    let validate = this.compiled.get(text);
    if (validate === undefined) {
      validate = this.ajv.compile(asDraft7(schema) as JsonSchema);
      this.compiled.set(text, validate);
    }
    return validate;
  }
}

/** One line describing the first thing wrong with a record, as ajv saw it. */
export function describeValidationError(validate: ValidateFunction): string {
  const error = validate.errors?.[0];
  if (error === undefined) return 'does not match its schema';
  const path = error.instancePath === '' ? '(the record)' : error.instancePath;
  return `${path} ${error.message ?? 'is invalid'}${error.params && 'allowedValues' in error.params ? ` (${JSON.stringify(error.params.allowedValues)})` : ''}`;
}
