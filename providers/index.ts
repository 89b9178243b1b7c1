export * from "./credentials";
export * from "./http";
export * from "./infisicalAuth";
export * from "./InfisicalClientSecret";
export * from "./InfisicalSecretValue";
export * from "./inputs";
export * from "./OpenRouterKey";
