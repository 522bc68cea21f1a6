/** A count and its noun, singular for one: `count(1, 'file')` is "1 file", `count(2, 'person', 'people')` "2 people". */
export const count = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
