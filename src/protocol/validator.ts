import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { TSchema } from 'typebox';

/**
 * The one Ajv instance that checks HTTP bodies (Fastify uses it as its validator compiler) and
 * WebSocket messages. Types are never coerced: "2" is not 2.
 */
export const ajv = new Ajv({
  coerceTypes: false,
  useDefaults: false,
  removeAdditional: false,
  allErrors: false,
  strict: false,
});
addFormats.default(ajv);

const compiled = new WeakMap<object, ValidateFunction>();

export function validatorFor(schema: TSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

/** A short human description of why a value failed its schema. */
export function describeErrors(validate: ValidateFunction): string {
  const first = validate.errors?.[0];
  if (!first) return 'invalid value';
  const where = first.instancePath ? first.instancePath.slice(1).replaceAll('/', '.') : 'value';
  return `${where} ${first.message ?? 'is invalid'}`;
}
