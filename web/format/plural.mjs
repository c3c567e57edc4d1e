// A count with its noun: "1 layer", "3 layers".

export const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
