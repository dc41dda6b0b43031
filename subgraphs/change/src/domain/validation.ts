/** Which rule a field broke; resolvers map these onto the `ValidationFailed` payload error. */
export type ValidationRule = 'required' | 'range' | 'format' | 'oneOf' | 'sum' | 'order' | 'unique';

/** One reason an input was refused, naming the field as the client sent it. */
export interface ValidationProblem {
  field: string;
  rule: ValidationRule;
  message: string;
}
