export * from "./ClientSecretRotation";
export * from "./InfisicalOperator";
export * from "./JwtSecretRotation";
export * from "./OpenRouterKeyRotation";
export * from "./rotation";
export * from "./SecretSync";
