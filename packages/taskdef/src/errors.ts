/** Bad input: the message names the field (a JSON path) and what to do; the CLI exits 2. */
export class TaskdefInputError extends Error {
  override name = 'TaskdefInputError';
  constructor(readonly field: string, message: string) {
    super(field ? `${field}: ${message}` : message);
  }
}
