"""Checks that keep this project deployable on Vercel. Development only: never shipped."""
